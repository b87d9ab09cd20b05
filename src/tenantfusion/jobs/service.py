"""Durable jobs: enqueue, claim under a fenced lease, report progress, finish, retry, pause.

Every write a worker makes to a job it runs names the lease it claimed (owner and
generation, :class:`Lease`): ``UPDATE job ... WHERE id = ? AND lease_owner = ? AND
lease_generation = ?``. A worker whose lease expired and passed to another can therefore
never overwrite the job's state or result; it gets :class:`LeaseLost` instead.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from tenantfusion.audit import service as audit_service
from tenantfusion.db import new_id, utcnow
from tenantfusion.errors import Conflict, NotFound
from tenantfusion.jobs.models import Job, JobEvent, JobState
from tenantfusion.jobs.registry import RETRY_HOOKS
from tenantfusion.platform.principal import Principal

RETRY_BASE_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0
#: States a job still moves out of by itself.
LIVE = (JobState.queued, JobState.running, JobState.paused)


class LeaseLost(Exception):
    """The job's lease passed to another worker: this one must stop writing to the job."""


@dataclass(frozen=True)
class Lease:
    """What a worker claimed: the fencing token of its writes and the job's retry budget."""

    job_id: str
    owner: str
    generation: int
    attempts: int
    max_attempts: int
    created_at: datetime
    deadline_at: datetime | None

    def deadline(self, default_seconds: float) -> datetime:
        """When the job must be finished (its own deadline, else ``created + default``)."""
        return self.deadline_at or self.created_at + timedelta(seconds=default_seconds)


def enqueue(
    *,
    db: Session,
    actor: Principal,
    kind: str,
    payload: dict[str, Any],
    tenant_id: str | None,
    total_steps: int = 0,
    max_attempts: int = 5,
    pool_id: str | None = None,
    deadline_seconds: float | None = None,
) -> Job:
    """Add a job; it runs after the caller commits. ``pool_id`` (else ``payload["pool_id"]``)
    names the pool it works on: its retries pause while that pool is down."""
    job = Job(
        kind=kind,
        payload=payload,
        tenant_id=tenant_id,
        created_by=actor.user_id,
        total_steps=total_steps,
        max_attempts=max_attempts,
        pool_id=pool_id or payload.get("pool_id"),
        deadline_at=utcnow() + timedelta(seconds=deadline_seconds) if deadline_seconds else None,
    )
    db.add(job)
    db.flush()
    return job


def get_or_raise(*, db: Session, job_id: str, actor: Principal) -> Job:
    """A job the caller may see; raises NotFound."""
    job = db.get(Job, job_id)
    if job is None or not (actor.is_platform_admin or job.tenant_id == actor.tenant_id):
        raise NotFound(f"job {job_id} not found")
    return job


def list_(*, db: Session, actor: Principal, limit: int, state: JobState | None) -> list[Job]:
    """Newest jobs the caller may see."""
    stmt = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if not actor.is_platform_admin:
        stmt = stmt.where(Job.tenant_id == actor.tenant_id)
    if state:
        stmt = stmt.where(Job.state == state)
    return list(db.scalars(stmt))


def unfinished(*, db: Session, tenant_id: str | None, kinds: tuple[str, ...]) -> list[Job]:
    """A tenant's queued, running or paused jobs of ``kinds``, newest first."""
    return list(
        db.scalars(
            select(Job)
            .where(Job.tenant_id == tenant_id, Job.kind.in_(kinds), Job.state.in_(LIVE))
            .order_by(Job.created_at.desc())
        )
    )


def settle_unclaimed(
    *,
    db: Session,
    job_id: str,
    result: dict[str, Any] | None = None,
    error: str = "",
    due_now: bool = False,
) -> bool:
    """Finish a queued or paused job whose work its request did itself (``result``:
    succeeded; ``error``: failed), or make it due now (``due_now``: a worker takes over).
    Only while no worker holds it: returns False otherwise. Flushes; the caller commits."""
    values: dict[str, Any]
    if due_now:
        values = {"run_after": utcnow()}
    elif error:
        values = {"state": JobState.failed, "error": error}
    else:
        values = {"state": JobState.succeeded, "result": result or {}, "step": Job.total_steps}
    done = db.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_((JobState.queued, JobState.paused)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def queue_depth(*, db: Session) -> int:
    """Jobs queued, running or paused."""
    return db.scalar(select(func.count()).select_from(Job).where(Job.state.in_(LIVE))) or 0


def claim(
    *, db: Session, owner: str, lease_seconds: float, busy_pools: Collection[str] = ()
) -> tuple[Job, Lease] | None:
    """Take the oldest runnable job: queued or paused and due, or running with an expired
    lease; none of ``busy_pools``. One atomic conditional UPDATE per candidate, bumping the
    fencing generation, so two workers never hold the same job. Commits."""
    now = utcnow()
    runnable = (Job.state.in_((JobState.queued, JobState.paused)) & (Job.run_after <= now)) | (
        (Job.state == JobState.running) & (Job.lease_expires_at < now)
    )
    stmt = select(Job.id).where(runnable).order_by(Job.run_after).limit(5)
    if busy_pools:
        stmt = stmt.where(Job.pool_id.is_(None) | Job.pool_id.not_in(list(busy_pools)))
    for job_id in db.scalars(stmt).all():
        result = db.execute(
            update(Job)
            .where(Job.id == job_id, runnable)
            .values(
                state=JobState.running,
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                lease_generation=Job.lease_generation + 1,
                attempts=Job.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            _event(db, job_id, "started")
        db.commit()
        if result.rowcount == 1:  # type: ignore[attr-defined]
            job = db.get(Job, job_id, populate_existing=True)
            if job is None or job.lease_owner != owner:  # the UPDATE above made it ours
                raise RuntimeError(f"job {job_id} claimed but not readable as ours")
            return job, Lease(
                job_id=job.id,
                owner=owner,
                generation=job.lease_generation,
                attempts=job.attempts,
                max_attempts=job.max_attempts,
                created_at=job.created_at,
                deadline_at=job.deadline_at,
            )
    return None


def _event(db: Session, job_id: str, event: str, step: int = 0, name: str = "") -> None:
    db.execute(
        insert(JobEvent).values(
            id=new_id(), job_id=job_id, at=utcnow(), event=event, step=step, name=name[:64]
        )
    )


def events(*, db: Session, job: Job) -> list[JobEvent]:
    """The job's events, oldest first (its timeline)."""
    return list(
        db.scalars(
            select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.at, JobEvent.id)
        )
    )


def _write(
    db: Session, lease: Lease, event: tuple[str, int, str] | None = None, **values: Any
) -> None:
    """One fenced UPDATE of the job, with its ``event`` (name, step, step name) if any
    (commits); raises LeaseLost if the lease moved on."""
    result = db.execute(
        update(Job)
        .where(
            Job.id == lease.job_id,
            Job.lease_owner == lease.owner,
            Job.lease_generation == lease.generation,
        )
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        raise LeaseLost(f"job {lease.job_id}: lease {lease.generation} of {lease.owner} lost")
    if event is not None:
        _event(db, lease.job_id, *event)
    db.commit()


def renew(*, db: Session, lease: Lease, seconds: float) -> bool:
    """Extend the lease (heartbeat). False when it was lost. Commits."""
    try:
        _write(db, lease, lease_expires_at=utcnow() + timedelta(seconds=seconds))
    except LeaseLost:
        return False
    return True


def progress(*, db: Session, lease: Lease, step: int, total: int, name: str) -> None:
    """Record ``step i/n`` (commits, so clients see it live). Raises LeaseLost."""
    _write(db, lease, ("step", step, name), step=step, total_steps=total, step_name=name[:64])


def save_payload(*, db: Session, lease: Lease, payload: dict[str, Any]) -> None:
    """Replace the job's payload (a handler's own progress). Commits; raises LeaseLost."""
    _write(db, lease, payload=payload)


def succeed(*, db: Session, lease: Lease, result: dict[str, Any]) -> None:
    """Mark a job done (commits). Raises LeaseLost."""
    _write(
        db,
        lease,
        ("succeeded", 0, ""),
        state=JobState.succeeded,
        result=result,
        error="",
        step=Job.total_steps,
        lease_owner=None,
        lease_expires_at=None,
    )


def _fail(db: Session, lease: Lease, error: str) -> None:
    _write(
        db,
        lease,
        ("failed", 0, error),
        state=JobState.failed,
        error=error,
        lease_owner=None,
        lease_expires_at=None,
    )


def retry_or_fail(
    *, db: Session, lease: Lease, error: str, deadline: datetime, permanent: bool = False
) -> JobState:
    """Schedule another attempt with exponential backoff, or fail for good: a permanent
    error, the last attempt, or the deadline passed (commits). Raises LeaseLost."""
    now = utcnow()
    if permanent or lease.attempts >= lease.max_attempts:
        _fail(db, lease, error)
        return JobState.failed
    if now >= deadline:
        _fail(db, lease, f"deadline passed after {lease.attempts} attempt(s): {error}")
        return JobState.failed
    delay = min(RETRY_BASE_SECONDS * 2 ** (lease.attempts - 1), RETRY_MAX_SECONDS)
    run_after = min(now + timedelta(seconds=delay), deadline)
    _write(
        db,
        lease,
        ("retrying", 0, error),
        state=JobState.queued,
        error=error,
        run_after=run_after,
        lease_owner=None,
        lease_expires_at=None,
    )
    return JobState.queued


def reschedule(
    *,
    db: Session,
    lease: Lease,
    delay_seconds: float,
    deadline: datetime,
    reason: str = "",
    pool_id: str | None = None,
) -> JobState:
    """Put a job back without spending the attempt: its resource is busy (queued), or its
    pool is down (``pool_id`` given: paused until the pool answers). Past the deadline the
    job fails instead (commits). Raises LeaseLost."""
    now = utcnow()
    if now >= deadline:
        _fail(db, lease, f"deadline passed while waiting: {reason or 'resource busy'}")
        return JobState.failed
    state = JobState.paused if pool_id else JobState.queued
    values: dict[str, Any] = {"pool_id": pool_id} if pool_id else {}
    _write(
        db,
        lease,
        (state.value, 0, reason),
        **values,
        state=state,
        error=reason,
        attempts=Job.attempts - 1,
        run_after=min(now + timedelta(seconds=delay_seconds), deadline),
        lease_owner=None,
        lease_expires_at=None,
    )
    return state


def resume_pool(*, db: Session, pool_id: str) -> int:
    """Make the paused jobs of a pool that answers again due now (flushes)."""
    result = db.execute(
        update(Job)
        .where(Job.pool_id == pool_id, Job.state == JobState.paused)
        .values(run_after=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def retry(*, db: Session, actor: Principal, job_id: str, deadline_seconds: float) -> Job:
    """Queue a failed job again with its attempts reset and a fresh deadline (flushes).

    The job kind's retry hook (``registry.on_retry``) runs in the same transaction. Raises
    NotFound (not the caller's job), Conflict (the job has not failed).
    """
    job = get_or_raise(db=db, job_id=job_id, actor=actor)
    if job.state is not JobState.failed:
        raise Conflict(f"job {job.id} is {job.state.value}; only a failed job can be retried")
    span = (
        (job.deadline_at - job.created_at).total_seconds() if job.deadline_at else deadline_seconds
    )
    now = utcnow()
    job.state, job.attempts, job.run_after = JobState.queued, 0, now
    job.error, job.result, job.step, job.step_name = "", {}, 0, ""
    job.deadline_at = now + timedelta(seconds=span)
    job.lease_owner = job.lease_expires_at = None
    _event(db, job.id, "requeued")
    hook = RETRY_HOOKS.get(job.kind)
    if hook:
        hook(db, job)
    audit_service.record(
        db=db,
        actor=actor,
        action="job.retry",
        target_kind="job",
        target_id=job.id,
        tenant_id=job.tenant_id,
        detail={"kind": job.kind},
    )
    db.flush()
    return job


def prune(*, db: Session, kind: str, older_than: datetime) -> int:
    """Delete succeeded jobs of ``kind`` last updated before ``older_than`` (flushes)."""
    result = db.execute(
        delete(Job).where(
            Job.kind == kind, Job.state == JobState.succeeded, Job.updated_at < older_than
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
