"""Platform quotas: a tenant's limits per resource, platform-wide and per pool.

Usage is never stored: it is summed from the tenant's routing records (each carries what
it ``charges``). ``TenantQuota`` is the row every create of the tenant locks while it
checks the limits and writes its record, so two creates never both take the last unit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base, IdMixin, UTCDateTime, utcnow


class TenantQuota(Base):
    """One row per tenant that has limits: the lock creates take (``version`` bumped)."""

    __tablename__ = "tenant_quota"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class QuotaLimit(IdMixin, Base):
    """A tenant's limit on one resource: platform-wide (``pool_id`` NULL) or in one pool."""

    __tablename__ = "quota_limit"
    __table_args__ = (UniqueConstraint("tenant_id", "pool_id", "resource"),)

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenant_quota.tenant_id", ondelete="CASCADE"), index=True
    )
    pool_id: Mapped[str | None] = mapped_column(ForeignKey("pool.id", ondelete="CASCADE"))
    resource: Mapped[str] = mapped_column(String(32))
    hard_limit: Mapped[int] = mapped_column(Integer)
