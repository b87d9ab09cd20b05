"""Registered resource pools and their encrypted admin credentials."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base, IdMixin, TimestampMixin, UTCDateTime


class PoolStatus(enum.StrEnum):
    ok = "ok"
    degraded = "degraded"
    unreachable = "unreachable"


class Pool(IdMixin, TimestampMixin, Base):
    """A kernel-layer cloud (one Keystone) that tenants' resources live in."""

    __tablename__ = "pool"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    driver: Mapped[str] = mapped_column(String(32))
    auth_url: Mapped[str] = mapped_column(String(255))
    region_name: Mapped[str | None] = mapped_column(String(64))
    #: Keystone domain for tenant projects and users in this pool.
    project_domain: Mapped[str] = mapped_column(String(64))
    #: MultiFernet token of the admin credential (JSON); never logged or returned.
    credential: Mapped[str] = mapped_column(Text, info={"encrypted": True})
    status: Mapped[PoolStatus] = mapped_column(Enum(PoolStatus, native_enum=False, length=16))
    status_reason: Mapped[str] = mapped_column(String(500), default="")
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: When set, a tenant's first server here without a network gets a default network,
    #: subnet (this CIDR) and router to the external network.
    default_network_cidr: Mapped[str | None] = mapped_column(String(64))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PoolHealthSample(IdMixin, Base):
    """What one health sweep saw of a pool: status, how long the check took (None when it
    failed), the circuit breaker's state afterwards. The last few per pool are kept."""

    __tablename__ = "pool_health_sample"

    pool_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("pool.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    breaker: Mapped[int] = mapped_column(Integer)
