"""Every table, imported once so Alembic and the app see the same metadata."""

from tenantfusion.apikeys.models import ApiKey, SignatureNonce
from tenantfusion.audit.models import AuditEvent
from tenantfusion.db import Base
from tenantfusion.jobs.models import Job
from tenantfusion.mapping.models import Mapping
from tenantfusion.platform.models import Installation, Tenant, Token, User
from tenantfusion.pools.models import Pool
from tenantfusion.resources.models import RoutingRecord

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Installation",
    "Job",
    "Mapping",
    "Pool",
    "RoutingRecord",
    "SignatureNonce",
    "Tenant",
    "Token",
    "User",
]
