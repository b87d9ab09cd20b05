"""Durable jobs: enqueue, claim under a lease, report progress, finish or retry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tenantfusion.db import utcnow
from tenantfusion.errors import NotFound
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.platform.principal import Principal

RETRY_BASE_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0


def enqueue(
    *,
    db: Session,
    actor: Principal,
    kind: str,
    payload: dict[str, Any],
    tenant_id: str | None,
    total_steps: int = 0,
    max_attempts: int = 5,
) -> Job:
    """Add a job; it runs after the caller commits."""
    job = Job(
        kind=kind,
        payload=payload,
        tenant_id=tenant_id,
        created_by=actor.user_id,
        total_steps=total_steps,
        max_attempts=max_attempts,
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
    """A tenant's queued or running jobs of ``kinds``, newest first."""
    return list(
        db.scalars(
            select(Job)
            .where(
                Job.tenant_id == tenant_id,
                Job.kind.in_(kinds),
                Job.state.in_((JobState.queued, JobState.running)),
            )
            .order_by(Job.created_at.desc())
        )
    )


def queue_depth(*, db: Session) -> int:
    """Jobs queued or running."""
    return (
        db.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.state.in_((JobState.queued, JobState.running)))
        )
        or 0
    )


def claim(*, db: Session, owner: str, lease_seconds: float) -> Job | None:
    """Take the oldest runnable job (queued and due, or running with an expired lease).

    One atomic conditional UPDATE per candidate, so two workers never run the same job.
    Commits.
    """
    now = utcnow()
    candidates = db.scalars(
        select(Job.id)
        .where(
            ((Job.state == JobState.queued) & (Job.run_after <= now))
            | ((Job.state == JobState.running) & (Job.lease_expires_at < now))
        )
        .order_by(Job.run_after)
        .limit(5)
    ).all()
    for job_id in candidates:
        result = db.execute(
            update(Job)
            .where(
                Job.id == job_id,
                ((Job.state == JobState.queued) & (Job.run_after <= now))
                | ((Job.state == JobState.running) & (Job.lease_expires_at < now)),
            )
            .values(
                state=JobState.running,
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        db.commit()
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return db.get(Job, job_id, populate_existing=True)
    return None


def progress(*, db: Session, job: Job, step: int, total: int, name: str) -> None:
    """Record ``step i/n`` (commits, so clients see it live)."""
    job.step, job.total_steps, job.step_name = step, total, name
    db.commit()


def succeed(*, db: Session, job: Job, result: dict[str, Any]) -> None:
    """Mark a job done (commits)."""
    job.state, job.result, job.error = JobState.succeeded, result, ""
    job.lease_owner = job.lease_expires_at = None
    job.step = job.total_steps
    db.commit()


def retry_or_fail(*, db: Session, job: Job, error: str, permanent: bool = False) -> None:
    """Schedule another attempt with exponential backoff, or fail for good (commits)."""
    job.error = error
    job.lease_owner = job.lease_expires_at = None
    if permanent or job.attempts >= job.max_attempts:
        job.state = JobState.failed
    else:
        delay = min(RETRY_BASE_SECONDS * 2 ** (job.attempts - 1), RETRY_MAX_SECONDS)
        job.state, job.run_after = JobState.queued, utcnow() + timedelta(seconds=delay)
    db.commit()


def settle_unclaimed(
    *,
    db: Session,
    job_id: str,
    result: dict[str, Any] | None = None,
    error: str = "",
    due_now: bool = False,
) -> bool:
    """Finish a queued job whose work its request did itself (``result``: succeeded;
    ``error``: failed), or make it due now (``due_now``: a worker takes over). Only while no
    worker has claimed it: returns False otherwise. Flushes; the caller commits."""
    values: dict[str, Any]
    if due_now:
        values = {"run_after": utcnow()}
    elif error:
        values = {"state": JobState.failed, "error": error}
    else:
        values = {"state": JobState.succeeded, "result": result or {}, "step": Job.total_steps}
    done = db.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.queued)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def release(*, db: Session, job: Job, delay_seconds: float) -> None:
    """Put a job back without counting the attempt (its resource was busy). Commits."""
    db.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(
            state=JobState.queued,
            lease_owner=None,
            lease_expires_at=None,
            attempts=Job.attempts - 1,
            run_after=utcnow() + timedelta(seconds=delay_seconds),
        )
    )
    db.commit()
