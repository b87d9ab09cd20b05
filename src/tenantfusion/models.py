"""Every table, imported once so Alembic and the app see the same metadata."""

from tenantfusion.audit.models import AuditEvent
from tenantfusion.db import Base
from tenantfusion.idempotency.models import IdempotencyKey
from tenantfusion.jobs.models import Job
from tenantfusion.mapping.models import Mapping
from tenantfusion.platform.models import Installation, Tenant, Token, User
from tenantfusion.pools.models import Pool
from tenantfusion.reconciler.models import LeaderLease
from tenantfusion.resources.models import RoutingRecord

__all__ = [
    "AuditEvent",
    "Base",
    "IdempotencyKey",
    "Installation",
    "Job",
    "LeaderLease",
    "Mapping",
    "Pool",
    "RoutingRecord",
    "Tenant",
    "Token",
    "User",
]
