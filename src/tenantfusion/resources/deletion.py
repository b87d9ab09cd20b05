"""Deletes as outbox jobs.

``request`` turns the record ``deleting`` and enqueues its delete job in one transaction,
so a process killed at any point leaves either the object untouched and routed, or a job
that finishes the delete. The job (re)sends the delete and looks again later without
holding a worker while the pool works; if the pool still has the object
``delete_deadline_seconds`` after it first accepted the delete (a server stuck in ERROR
is force-deleted by the pool admin on the way), the job gives up: the record turns
``delete_failed`` with the pool's reason, visible in lists, and a new DELETE retries.

Kinds the pool deletes at once (networks, subnets, routers, floating IPs) run the delete
inside the request too, answering 204, or 409 while the object is in use (the record is
active again); their queued job is only the net under a crash, or takes over when the
pool did not answer (202 with the job).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.audit import service as audit_service
from tenantfusion.config import Settings
from tenantfusion.db import utcnow
from tenantfusion.errors import NotFound, PoolConflict, StepFailed, TenantFusionError
from tenantfusion.faults import crash_point
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.jobs.registry import Busy, JobContext, handler, on_retry
from tenantfusion.platform.principal import Principal
from tenantfusion.resources import service as record_service
from tenantfusion.resources.engine import ResourceKind, Target, routed, tenant_of
from tenantfusion.resources.models import RecordState, RoutingRecord

log = structlog.get_logger(__name__)

DELETE_JOB = "resource.delete"
#: The job kind of earlier releases (servers only): the same handler finishes it.
LEGACY_JOB = "resource.await_deleted"
#: Kinds the pool removes later (the job looks again until they are gone).
ASYNC_KINDS = frozenset({"server"})
#: How often a delete is sent again while the object is still there.
RESEND_SECONDS = 30.0
#: Statuses in which an object will not go away by itself: force it.
STUCK = frozenset({"ERROR"})


class DeleteFailed(StepFailed):
    type, title = "delete-failed", "The pool did not delete the object"


def request(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    settings: Settings,
    kind: ResourceKind[Any],
    record_id: str,
    sent: bool = False,
) -> Job:
    """Mark the object ``deleting`` and enqueue its delete job, in one transaction.
    ``sent``: the caller already sent the delete to the pool (the facade's pass-through),
    so the job waits for it before sending it again.

    An ``active`` object or one whose delete failed may be deleted; raises NotFound."""
    tenant_id = tenant_of(actor)
    with sessions() as db:
        target = routed(
            db=db,
            tenant_id=tenant_id,
            kind=kind.name,
            record_id=record_id,
            settings=settings,
            states=(RecordState.active, RecordState.delete_failed, RecordState.deleting),
        )
        record = target.record
        if record.state is RecordState.deleting:  # a retried DELETE: the job already runs
            running = _pending_job(db=db, tenant_id=tenant_id, record_id=record.id)
            if running is not None:
                job_service.settle_unclaimed(db=db, job_id=running.id, due_now=True)
                db.commit()
                return running
        record.state, record.reason = RecordState.deleting, ""
        payload = {"record_id": record.id, "kind": kind.name}
        if sent:
            payload["sent_at"] = payload["last_sent"] = utcnow().isoformat()
        job = job_service.enqueue(
            db=db,
            actor=actor,
            kind=DELETE_JOB,
            payload=payload,
            tenant_id=tenant_id,
            total_steps=2,
            max_attempts=10,
            pool_id=record.pool_id,
        )
        if not kind.delete_is_async:  # the request tries first; the job is the net
            job.run_after = utcnow() + timedelta(seconds=3 * settings.pool_timeout_seconds)
        audit_service.record(
            db=db,
            actor=actor,
            action=f"{kind.name}.delete",
            target_kind=kind.name,
            target_id=record.id,
            tenant_id=tenant_id,
            detail={"pool": target.where.pool.name, "remote_id": record.remote_id, "job": job.id},
        )
        db.commit()
    crash_point(f"resource.delete.{kind.name}.enqueued")
    return job


def _pending_job(*, db: Session, tenant_id: str, record_id: str) -> Job | None:
    """The unfinished delete job of a record (None if it ended: a new one starts)."""
    jobs = job_service.unfinished(db=db, tenant_id=tenant_id, kinds=(DELETE_JOB, LEGACY_JOB))
    return next((j for j in jobs if j.payload.get("record_id") == record_id), None)


def delete(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    settings: Settings,
    kind: ResourceKind[Any],
    record_id: str,
) -> Job | None:
    """Delete an object: its job (servers: 202), or at once (None: 204).

    Raises NotFound, PoolConflict while the object is in use (nothing changed)."""
    job = request(sessions=sessions, actor=actor, settings=settings, kind=kind, record_id=record_id)
    if kind.delete_is_async or job.state is not JobState.queued:
        return job
    try:
        _remove_now(sessions=sessions, settings=settings, job=job)
    except PoolConflict as e:  # in use: the object stays, and so does its record
        with sessions() as db:
            record = record_service.get_or_raise(
                db=db,
                tenant_id=job.tenant_id or "",
                kind=kind.name,
                record_id=record_id,
                states=(RecordState.deleting,),
            )
            record.state = RecordState.active
            job_service.settle_unclaimed(db=db, job_id=job.id, error=e.detail)
            db.commit()
        raise
    except TenantFusionError as e:  # no answer: the job takes over now
        log.info("resource.delete_deferred", record_id=record_id, reason=e.detail)
        with sessions() as db:
            job_service.settle_unclaimed(db=db, job_id=job.id, due_now=True)
            db.commit()
        return job
    with sessions() as db:
        job_service.settle_unclaimed(db=db, job_id=job.id, result={"deleted": True})
        db.commit()
    return None


def _target(*, db: Session, settings: Settings, job: Job) -> Target | None:
    """The record being deleted and its pool, or None when an earlier run finished."""
    try:
        return routed(
            db=db,
            tenant_id=job.tenant_id or "",
            kind=job.payload["kind"],
            record_id=job.payload["record_id"],
            settings=settings,
            states=(RecordState.deleting,),
        )
    except NotFound:
        return None


def _remove_now(*, sessions: sessionmaker[Session], settings: Settings, job: Job) -> None:
    """Delete a kind the pool removes at once, then its record."""
    with sessions() as db:
        target = _target(db=db, settings=settings, job=job)
    if target is None:
        return
    where, record = target.where, target.record
    where.driver.delete_object(
        session=where.session, kind=job.payload["kind"], remote_id=record.remote_id or ""
    )
    crash_point(f"resource.delete.{job.payload['kind']}.pool_done")
    with sessions() as db:
        record_service.discard(db=db, record=db.merge(record))


def _since(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


@handler(DELETE_JOB)
@handler(LEGACY_JOB)
def delete_job(ctx: JobContext) -> dict[str, Any]:
    """One pass of a delete: send it (again), then come back until the object is gone;
    give up by the deadline. Never waits inside the worker (Busy: look again later)."""
    payload = dict(ctx.job.payload)
    kind, record_id = payload["kind"], payload["record_id"]
    sessions = sessionmaker(bind=ctx.db.get_bind(), expire_on_commit=False)
    target = _target(db=ctx.db, settings=ctx.settings, job=ctx.job)
    ctx.db.commit()  # no transaction stays open across the pool calls below
    if target is None:
        return {"record_id": record_id, "deleted": True}
    if kind not in ASYNC_KINDS:
        ctx.report(1, 2, "delete")
        _remove_now(sessions=sessions, settings=ctx.settings, job=ctx.job)
        return {"record_id": record_id, "pool": target.where.pool.name, "deleted": True}
    where, remote_id = target.where, target.record.remote_id or ""
    found = where.driver.get_object(session=where.session, kind=kind, remote_id=remote_id)
    if found is None:
        with sessions() as db:
            record_service.discard(db=db, record=db.merge(target.record))
        return {"record_id": record_id, "pool": where.pool.name, "deleted": True}
    now = utcnow()
    sent_at, last_sent = _since(payload.get("sent_at")), _since(payload.get("last_sent"))
    if sent_at and now - sent_at > timedelta(seconds=ctx.settings.delete_deadline_seconds):
        reason = (
            f"pool {where.pool.name} still has the {kind} ({found.status}) "
            f"{int((now - sent_at).total_seconds())} s after accepting its delete"
        )
        with sessions() as db:
            record = db.merge(target.record)
            record.state, record.reason = RecordState.delete_failed, reason
            db.commit()
        raise DeleteFailed(reason, pool=where.pool.name)
    if found.status.upper() in STUCK and sent_at is not None:
        ctx.report(2, 2, f"force-deleting the {found.status} {kind} in pool {where.pool.name}")
        where.driver.purge_object(kind="server", remote_id=remote_id, force=True)
        payload["last_sent"] = now.isoformat()
    elif last_sent is None or now - last_sent > timedelta(seconds=RESEND_SECONDS):
        ctx.report(1, 2, f"deleting the {kind} in pool {where.pool.name}")
        where.driver.delete_object(session=where.session, kind=kind, remote_id=remote_id)
        crash_point(f"resource.delete.{kind}.pool_done")
        payload.setdefault("sent_at", now.isoformat())
        payload["last_sent"] = now.isoformat()
    else:
        ctx.report(2, 2, f"waiting for pool {where.pool.name} to delete the {kind}")
    ctx.save_payload(payload)
    raise Busy()


@on_retry(DELETE_JOB)
@on_retry(LEGACY_JOB)
def retry_delete(db: Session, job: Job) -> None:
    """A failed delete retried: its record is ``deleting`` again, its clock starts anew."""
    record = db.get(RoutingRecord, job.payload.get("record_id"))
    if record is not None and record.state is RecordState.delete_failed:
        record.state, record.reason = RecordState.deleting, ""
    job.payload = {k: v for k, v in job.payload.items() if k not in ("sent_at", "last_sent")}
