"""Routing records: every remote object a tenant created, by platform id → (pool, remote id)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base, IdMixin, TimestampMixin, UTCDateTime


class RecordState(enum.StrEnum):
    creating = "creating"  # written before the remote call: a crash leaves a findable trace
    active = "active"
    deleting = "deleting"  # turned in the same transaction that enqueues its delete job
    #: the delete job gave up by its deadline; ``reason`` says why; a user may retry
    delete_failed = "delete_failed"


class RoutingRecord(IdMixin, TimestampMixin, Base):
    __tablename__ = "routing_record"
    __table_args__ = (
        UniqueConstraint("pool_id", "kind", "remote_id"),
        # one "default" network/subnet/router per tenant and pool (NULL tags don't collide)
        UniqueConstraint("tenant_id", "pool_id", "kind", "tag"),
        # one record per idempotent request: a retry resumes the first attempt's record
        UniqueConstraint("tenant_id", "request_key"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    pool_id: Mapped[str] = mapped_column(ForeignKey("pool.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    remote_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255), default="")
    #: "default" for the network, subnet and router a pool gives a tenant on first use.
    tag: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[RecordState] = mapped_column(
        Enum(RecordState, native_enum=False, length=16), default=RecordState.creating
    )
    #: why the record is in its state (a delete that failed: the pool's reason)
    reason: Mapped[str] = mapped_column(Text, default="")
    #: first time the periodic reconciler found the object gone from its pool
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the Idempotency-Key of the request that created it (hashed with its scope)
    request_key: Mapped[str | None] = mapped_column(String(64))
    #: what it counts against the tenant's quotas (``{"servers": 1, "vcpus": 2, ...}``):
    #: reserved while ``creating``, used once ``active``, given back when the record goes
    charges: Mapped[dict[str, Any] | None] = mapped_column(JSON)
