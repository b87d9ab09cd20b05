"""Pick up what a crash left behind in one pool.

- a mapping left ``provisioning`` whose lease expired: the ensure flow runs again and
  resumes at its first unfinished step (``resumed``);
- a mapping left ``deleting``, or a routing record left ``deleting``, with no live job
  (queued, running or paused) and a free lease: its job is enqueued again (``requeued``);
  when the newest job for it failed for good, it is left for a user's retry (``stuck``),
  so nothing is retried forever.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.db import utcnow
from tenantfusion.errors import TenantFusionError
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.mapping.flows import mapping_ensure_flow
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.mapping.teardown import DEPROVISION, deprovision_job
from tenantfusion.platform.principal import SYSTEM
from tenantfusion.pools.models import Pool
from tenantfusion.resources.deletion import DELETE_JOB, LEGACY_JOB
from tenantfusion.resources.models import RecordState, RoutingRecord


def _job_state(db: Session, *, kind: str, tenant_id: str, key: str, value: str) -> str:
    """``live`` if a job for the object is queued/running/paused, ``failed`` if its newest
    job failed for good, else ``none``."""
    jobs = db.scalars(
        select(Job)
        .where(
            Job.kind == kind,
            Job.tenant_id == tenant_id,
            Job.state.in_((*job_service.LIVE, JobState.failed)),
        )
        .order_by(Job.created_at.desc())
    )
    for job in jobs:
        if job.payload.get(key) == value:
            return "failed" if job.state is JobState.failed else "live"
    return "none"


def _stale_mappings(db: Session, pool: Pool, state: MappingState) -> list[Mapping]:
    now = utcnow()
    return list(
        db.scalars(
            select(Mapping).where(
                Mapping.pool_id == pool.id,
                Mapping.state == state,
                Mapping.lease_owner.is_(None) | (Mapping.lease_expires_at < now),
            )
        )
    )


def requeue_orphans(*, db: Session, pool: Pool, settings: Settings) -> dict[str, list[Any]]:
    """Enqueue the missing jobs of mappings and records left ``deleting`` (commits)."""
    report: dict[str, list[Any]] = {"requeued": [], "stuck": []}
    for mapping in _stale_mappings(db, pool, MappingState.deleting):
        entry = {"mapping_id": mapping.id, "tenant_id": mapping.tenant_id}
        found = _job_state(
            db, kind=DEPROVISION, tenant_id=mapping.tenant_id, key="mapping_id", value=mapping.id
        )
        if found == "none":
            # already past the objects-left gate when it turned `deleting`
            job = deprovision_job(db=db, actor=SYSTEM, mapping=mapping, pool=pool, purge=True)
            report["requeued"].append({**entry, "job_id": job.id})
        elif found == "failed":
            report["stuck"].append(entry)
    settled = utcnow() - timedelta(seconds=settings.lease_seconds)
    for record in db.scalars(
        select(RoutingRecord).where(
            RoutingRecord.pool_id == pool.id,
            RoutingRecord.state == RecordState.deleting,
            RoutingRecord.updated_at < settled,
        )
    ):
        entry = {"id": record.id, "kind": record.kind, "tenant_id": record.tenant_id}
        states = {
            _job_state(db, kind=kind, tenant_id=record.tenant_id, key="record_id", value=record.id)
            for kind in (DELETE_JOB, LEGACY_JOB)
        }
        found = "live" if "live" in states else "failed" if "failed" in states else "none"
        if found == "none":
            job = job_service.enqueue(
                db=db,
                actor=SYSTEM,
                kind=DELETE_JOB,
                payload={"record_id": record.id, "kind": record.kind},
                tenant_id=record.tenant_id,
                total_steps=2,
                max_attempts=10,
                pool_id=pool.id,
            )
            report["requeued"].append({**entry, "job_id": job.id})
        elif found == "failed":
            report["stuck"].append(entry)
    db.commit()
    return report


def resume_mappings(
    *, sessions: sessionmaker[Session], pool: Pool, settings: Settings
) -> dict[str, list[Any]]:
    """Run the ensure flow again for mappings left ``provisioning`` by a dead worker."""
    report: dict[str, list[Any]] = {"resumed": [], "failed": []}
    with sessions() as db:
        stale = [
            (m.tenant_id, m.last_step) for m in _stale_mappings(db, pool, MappingState.provisioning)
        ]
    for tenant_id, last_step in stale:
        entry = {"tenant_id": tenant_id, "after_step": last_step}
        try:
            mapping, _ = mapping_ensure_flow(
                sessions=sessions,
                actor=SYSTEM,
                tenant_id=tenant_id,
                pool_ref=pool.id,
                settings=settings,
            )
            report["resumed"].append({**entry, "state": mapping.state.value})
        except TenantFusionError as e:
            report["failed"].append({**entry, "reason": e.detail})
    return report
