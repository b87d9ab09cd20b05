"""Every table, imported once so Alembic and the app see the same metadata."""

from tenantfusion.apikeys.models import ApiKey, SignatureNonce
from tenantfusion.audit.models import AuditEvent, AuditHead
from tenantfusion.coherence.models import CacheEpoch
from tenantfusion.db import Base
from tenantfusion.idempotency.models import IdempotencyKey
from tenantfusion.jobs.models import Job, JobEvent
from tenantfusion.mapping.models import Mapping
from tenantfusion.platform.models import Installation, LoginFailure, Tenant, Token, User
from tenantfusion.pools.models import Pool, PoolHealthSample
from tenantfusion.quotas.models import QuotaLimit, TenantQuota
from tenantfusion.reconciler.models import LeaderLease
from tenantfusion.resources.models import RoutingRecord

__all__ = [
    "ApiKey",
    "AuditEvent",
    "AuditHead",
    "Base",
    "CacheEpoch",
    "IdempotencyKey",
    "Installation",
    "Job",
    "JobEvent",
    "LeaderLease",
    "LoginFailure",
    "Mapping",
    "Pool",
    "PoolHealthSample",
    "QuotaLimit",
    "RoutingRecord",
    "SignatureNonce",
    "TenantQuota",
    "Tenant",
    "Token",
    "User",
]
