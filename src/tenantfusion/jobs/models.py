"""Durable jobs: work that touches pools, claimed by workers under a lease."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class JobState(enum.StrEnum):
    queued = "queued"
    running = "running"
    #: Waiting for its pool to answer again; pauses never spend attempts.
    paused = "paused"
    succeeded = "succeeded"
    failed = "failed"


class Job(IdMixin, TimestampMixin, Base):
    __tablename__ = "job"

    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(
        Enum(JobState, native_enum=False, length=16), default=JobState.queued, index=True
    )
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_by: Mapped[str | None] = mapped_column(String(36))
    step: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    step_name: Mapped[str] = mapped_column(String(64), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Fencing token: bumped on every claim; a write names the generation it was claimed at,
    #: so a worker that lost its lease can never overwrite the job.
    lease_generation: Mapped[int] = mapped_column(Integer, default=0)
    #: The pool the job works on (pauses while it is down; None for pool-less jobs).
    pool_id: Mapped[str | None] = mapped_column(String(36), index=True)
    #: After this the job fails instead of being retried or paused again.
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class JobEvent(IdMixin, Base):
    """A moment in a job's life: ``started`` (an attempt), ``step`` (with its number and
    name), ``succeeded``, ``failed``, ``retrying``; queued is the job's ``created_at``."""

    __tablename__ = "job_event"

    job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("job.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64), default="")
