"""The periodic reconciler: every ``reconcile_interval_seconds`` the replica holding the
``reconciler`` leader lease sweeps pool health and queues a ``pool.reconcile`` job for
every enabled pool that answers (unless one is still queued, running or paused), and a
``mapping.rotate`` job for every application credential due for renewal there
(``rotation``). Other
replicas find the lease taken and wait for the next period; if the holder dies, its lease
runs out and another replica takes over."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.db import utcnow
from tenantfusion.jobs import service as job_service
from tenantfusion.mapping import service as mapping_service
from tenantfusion.metrics import RECONCILE_RUNS
from tenantfusion.platform.principal import SYSTEM
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.models import PoolStatus
from tenantfusion.reconciler import health, lease, rotation
from tenantfusion.reconciler.jobs import RECONCILE

log = structlog.get_logger(__name__)

LEASE_NAME = "reconciler"
#: Succeeded reconcile jobs are kept this long (one a period per pool would pile up).
KEEP_REPORTS = timedelta(days=1)


def run_once(
    *, sessions: sessionmaker[Session], settings: Settings, owner: str
) -> dict[str, Any] | None:
    """One pass if this owner holds (or takes) the lease; None when another replica does.
    Returns ``{"pools": {name: status}, "queued": [job ids], "rotations": [job ids]}``."""
    seconds = 2 * settings.reconcile_interval_seconds + settings.pool_timeout_seconds
    with sessions() as db:
        if not lease.acquire(db=db, name=LEASE_NAME, owner=owner, seconds=seconds):
            return None
    statuses = health.sweep(sessions=sessions, settings=settings)
    queued: list[str] = []
    answering: list[str] = []
    with sessions() as db:
        live = job_service.unfinished(db=db, tenant_id=None, kinds=(RECONCILE,))
        busy = {j.payload.get("pool_id") for j in live}
        for pool in pool_service.list_(db=db):
            if not pool.is_enabled or pool.status is PoolStatus.unreachable:
                continue
            answering.append(pool.id)
            if pool.id in busy:
                continue
            job = job_service.enqueue(
                db=db,
                actor=SYSTEM,
                kind=RECONCILE,
                payload={"pool_id": pool.id, "periodic": True},
                tenant_id=None,
                total_steps=4,
            )
            queued.append(job.id)
        rotations = rotation.queue_due(db=db, settings=settings, pool_ids=answering)
        job_service.prune(db=db, kind=RECONCILE, older_than=utcnow() - KEEP_REPORTS)
        db.commit()
    RECONCILE_RUNS.labels(outcome="sweep").inc()
    return {"pools": statuses, "queued": queued, "rotations": rotations}


class Reconciler(threading.Thread):
    """A daemon thread running :func:`run_once` every period until stopped."""

    def __init__(self, *, sessions: sessionmaker[Session], settings: Settings) -> None:
        super().__init__(name="tenantfusion-reconciler", daemon=True)
        self.sessions, self.settings = sessions, settings
        self.owner = mapping_service.new_owner()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                run_once(sessions=self.sessions, settings=self.settings, owner=self.owner)
            except Exception:
                log.exception("reconciler.loop_error")
            self._stop_event.wait(self.settings.reconcile_interval_seconds)

    def stop(self) -> None:
        self._stop_event.set()
        with self.sessions() as db:
            lease.release(db=db, name=LEASE_NAME, owner=self.owner)
