"""The tenant ↔ pool mapping: one row per (tenant, pool), with remote ids and a lease."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base, IdMixin, TimestampMixin, UTCDateTime


class MappingState(enum.StrEnum):
    pending = "pending"
    provisioning = "provisioning"
    active = "active"
    failed = "failed"
    deleting = "deleting"


class Mapping(IdMixin, TimestampMixin, Base):
    """A tenant's project and least-privilege user in one pool."""

    __tablename__ = "mapping"
    __table_args__ = (UniqueConstraint("tenant_id", "pool_id"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    pool_id: Mapped[str] = mapped_column(ForeignKey("pool.id", ondelete="RESTRICT"), index=True)
    state: Mapped[MappingState] = mapped_column(
        Enum(MappingState, native_enum=False, length=16), default=MappingState.pending
    )
    reason: Mapped[str] = mapped_column(String(1000), default="")
    #: Name of the last onboarding step that finished; a resumed ensure starts after it.
    last_step: Mapped[str] = mapped_column(String(64), default="")
    project_name: Mapped[str] = mapped_column(String(128))
    project_remote_id: Mapped[str | None] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(128))
    user_remote_id: Mapped[str | None] = mapped_column(String(64))
    #: MultiFernet token holding the pool user's password; written before the user exists.
    credential: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    is_adopted: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
