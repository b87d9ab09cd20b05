"""The worker: claims jobs, runs their handler, records the outcome. Runs in-process."""

from __future__ import annotations

import threading

import structlog
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.errors import PoolError, PoolUnavailable, TenantFusionError
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.registry import HANDLERS, Busy, JobContext
from tenantfusion.mapping import service as mapping_service
from tenantfusion.metrics import JOB_QUEUE_DEPTH

log = structlog.get_logger(__name__)

#: Errors worth another attempt; anything else fails the job at once.
TRANSIENT = (PoolError, PoolUnavailable)


def run_one(*, sessions: sessionmaker[Session], settings: Settings, owner: str) -> bool:
    """Claim and run one job. Returns False when nothing was runnable."""
    with sessions() as db:
        job = job_service.claim(db=db, owner=owner, lease_seconds=settings.lease_seconds)
        if job is None:
            return False
        handler = HANDLERS.get(job.kind)
        bound = log.bind(job_id=job.id, kind=job.kind, attempt=job.attempts)
        if handler is None:
            job_service.retry_or_fail(
                db=db, job=job, error=f"unknown job kind {job.kind}", permanent=True
            )
            return True

        def report(step: int, total: int, name: str) -> None:
            job_service.progress(db=db, job=job, step=step, total=total, name=name)

        try:
            result = handler(JobContext(db=db, job=job, settings=settings, report=report))
        except Busy:
            db.rollback()
            job_service.release(db=db, job=job, delay_seconds=1.0)
            return True
        except TenantFusionError as e:
            db.rollback()
            bound.warning("job.failed", error=e.detail, transient=isinstance(e, TRANSIENT))
            job_service.retry_or_fail(
                db=db, job=job, error=e.detail, permanent=not isinstance(e, TRANSIENT)
            )
            return True
        except Exception as e:  # a bug: record it, never lose the job silently
            db.rollback()
            bound.exception("job.crashed")
            job_service.retry_or_fail(db=db, job=job, error=f"internal error: {type(e).__name__}")
            return True
        job_service.succeed(db=db, job=job, result=result)
        bound.info("job.succeeded")
        return True


def run_pending(*, sessions: sessionmaker[Session], settings: Settings, limit: int = 100) -> int:
    """Run runnable jobs until none is left (or ``limit``); returns how many ran."""
    owner = mapping_service.new_owner()
    ran = 0
    while ran < limit and run_one(sessions=sessions, settings=settings, owner=owner):
        ran += 1
    return ran


class Worker(threading.Thread):
    """A daemon thread polling for jobs until stopped."""

    def __init__(
        self, *, sessions: sessionmaker[Session], settings: Settings, interval: float = 0.5
    ) -> None:
        super().__init__(name="tenantfusion-worker", daemon=True)
        self.sessions, self.settings, self.interval = sessions, settings, interval
        self.owner = mapping_service.new_owner()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                ran = run_one(sessions=self.sessions, settings=self.settings, owner=self.owner)
                with self.sessions() as db:
                    JOB_QUEUE_DEPTH.set(job_service.queue_depth(db=db))
            except Exception:
                log.exception("worker.loop_error")
                ran = False
            if not ran:
                self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
