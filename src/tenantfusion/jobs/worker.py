"""The worker: claims jobs, runs their handler under a heartbeat, records the outcome.

Runs in-process as a few threads. One pool never holds more than half of them, so a slow
or hanging pool cannot starve the jobs of the others. A job whose pool is down (its
circuit open, or the handler found it unreachable) is paused without spending an attempt
and runs again when the pool answers; every job fails at the latest at its deadline.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.errors import PoolError, PoolUnavailable, PoolUnreachable, TenantFusionError
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.heartbeat import Heartbeat
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.jobs.registry import HANDLERS, Busy, JobContext
from tenantfusion.jobs.service import Lease, LeaseLost
from tenantfusion.mapping import service as mapping_service
from tenantfusion.metrics import JOB_QUEUE_DEPTH
from tenantfusion.pools import breaker
from tenantfusion.pools import service as pool_service

log = structlog.get_logger(__name__)

#: Errors worth another attempt; anything else fails the job at once.
TRANSIENT = (PoolError, PoolUnavailable)
#: A paused job looks at its pool again after this (sooner when the sweep sees it back).
PAUSE_SECONDS = 10.0
#: A job whose resource is busy elsewhere runs again after this.
BUSY_SECONDS = 1.0
#: The queue-depth gauge is counted again at most this often by an idle worker.
DEPTH_SECONDS = 5.0


def _down_pool(db: Session, job: Job, error: PoolUnreachable | None = None) -> str | None:
    """The id of the job's pool when it is down: the error names it, or its circuit is
    open in this process. None when the job has no known pool or the pool answers."""
    name = error.extra.get("pool") if error is not None else None
    pool = pool_service.get(db=db, ref=name or job.pool_id or "") if name or job.pool_id else None
    if pool is None:
        return None
    if error is not None or breaker.state(pool.name) == breaker.OPEN:
        return pool.id
    return None


def _outcome(
    *, db: Session, job: Job, lease: Lease, error: Exception, deadline: datetime
) -> JobState:
    """Record a handler's failure: pause, reschedule, retry or fail (commits)."""
    db.rollback()
    bound = log.bind(job_id=lease.job_id, kind=job.kind, attempt=lease.attempts)
    if isinstance(error, Busy):
        return job_service.reschedule(
            db=db, lease=lease, delay_seconds=BUSY_SECONDS, deadline=deadline
        )
    if isinstance(error, PoolUnreachable) and (pool_id := _down_pool(db, job, error)):
        bound.info("job.paused", pool_id=pool_id, error=error.detail)
        return job_service.reschedule(
            db=db,
            lease=lease,
            delay_seconds=PAUSE_SECONDS,
            deadline=deadline,
            reason=f"paused until the pool answers: {error.detail}",
            pool_id=pool_id,
        )
    if isinstance(error, TenantFusionError):
        transient = isinstance(error, TRANSIENT)
        bound.warning("job.failed", error=error.detail, transient=transient)
        return job_service.retry_or_fail(
            db=db, lease=lease, error=error.detail, deadline=deadline, permanent=not transient
        )
    bound.error("job.crashed", error=type(error).__name__, exc_info=error)
    return job_service.retry_or_fail(
        db=db, lease=lease, error=f"internal error: {type(error).__name__}", deadline=deadline
    )


def execute(
    *, db: Session, sessions: sessionmaker[Session], settings: Settings, job: Job, lease: Lease
) -> JobState | None:
    """Run a claimed job and record its outcome; None if the lease was lost meanwhile (the
    job belongs to another worker now and this one wrote nothing)."""
    deadline = lease.deadline(settings.job_deadline_seconds)
    handler = HANDLERS.get(job.kind)
    try:
        if handler is None:
            return job_service.retry_or_fail(
                db=db,
                lease=lease,
                error=f"unknown job kind {job.kind}",
                deadline=deadline,
                permanent=True,
            )
        if pool_id := _down_pool(db, job):
            log.info("job.paused", job_id=lease.job_id, kind=job.kind, pool_id=pool_id)
            return job_service.reschedule(
                db=db,
                lease=lease,
                delay_seconds=PAUSE_SECONDS,
                deadline=deadline,
                reason="paused until the pool answers: its circuit is open",
                pool_id=pool_id,
            )
        lost = threading.Event()

        def report(step: int, total: int, name: str) -> None:
            if lost.is_set():
                raise LeaseLost(f"job {lease.job_id}: lease lost")
            job_service.progress(db=db, lease=lease, step=step, total=total, name=name)

        def save_payload(payload: dict[str, Any]) -> None:
            job_service.save_payload(db=db, lease=lease, payload=payload)

        ctx = JobContext(
            db=db,
            job=job,
            settings=settings,
            report=report,
            save_payload=save_payload,
            lease_lost=lost,
        )
        try:
            with Heartbeat(
                sessions=sessions, lease=lease, lease_seconds=settings.lease_seconds, lost=lost
            ):
                result = handler(ctx)
        except LeaseLost:
            raise
        except Exception as e:
            return _outcome(db=db, job=job, lease=lease, error=e, deadline=deadline)
        job_service.succeed(db=db, lease=lease, result=result)
        log.info("job.succeeded", job_id=lease.job_id, kind=job.kind)
        return JobState.succeeded
    except LeaseLost:
        db.rollback()
        log.warning("job.lease_lost", job_id=lease.job_id, kind=job.kind)
        return None


def run_one(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    owner: str,
    busy_pools: Collection[str] = (),
) -> bool:
    """Claim and run one job. Returns False when nothing was runnable."""
    with sessions() as db:
        claimed = job_service.claim(
            db=db, owner=owner, lease_seconds=settings.lease_seconds, busy_pools=busy_pools
        )
        if claimed is None:
            return False
        execute(db=db, sessions=sessions, settings=settings, job=claimed[0], lease=claimed[1])
        return True


def run_pending(*, sessions: sessionmaker[Session], settings: Settings, limit: int = 100) -> int:
    """Run runnable jobs until none is left (or ``limit``); returns how many ran."""
    owner = mapping_service.new_owner()
    ran = 0
    while ran < limit and run_one(sessions=sessions, settings=settings, owner=owner):
        ran += 1
    return ran


class Worker:
    """``settings.worker_threads`` daemon threads running jobs until stopped.

    One thread at a time polls for a job (the poller); the idle others wait without
    touching the database. A poller that claims a job hands the role to the next thread
    before running it, so a queue of jobs is taken up by every thread in turn, while an
    empty queue costs one small query per ``interval`` (not one per thread) and GIL time
    the served requests would otherwise wait for.
    """

    def __init__(
        self, *, sessions: sessionmaker[Session], settings: Settings, interval: float = 0.5
    ) -> None:
        self.sessions, self.settings, self.interval = sessions, settings, interval
        count = max(1, settings.worker_threads)
        #: Jobs of one pool this process runs at once, at most.
        self.per_pool = max(1, count // 2)
        self._threads = [
            threading.Thread(target=self._loop, name=f"tenantfusion-worker-{i}", daemon=True)
            for i in range(count)
        ]
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._turn = threading.Condition()
        self._polling = False  # a thread holds the poller role
        self._depth_at = 0.0

    def stop(self) -> None:
        self._stop_event.set()
        with self._turn:
            self._turn.notify_all()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def _claim(self, db: Session, owner: str) -> tuple[Job, Lease] | None:
        with self._lock:
            busy = [p for p, n in self._running.items() if n >= self.per_pool]
            claimed = job_service.claim(
                db=db, owner=owner, lease_seconds=self.settings.lease_seconds, busy_pools=busy
            )
            if claimed and claimed[0].pool_id:
                self._running[claimed[0].pool_id] += 1
        return claimed

    def _run_one(self, owner: str, on_claimed: Callable[[], None] = lambda: None) -> bool:
        with self.sessions() as db:
            claimed = self._claim(db, owner)
            if claimed is None:
                if time.monotonic() >= self._depth_at:
                    self._depth_at = time.monotonic() + DEPTH_SECONDS
                    JOB_QUEUE_DEPTH.set(job_service.queue_depth(db=db))
                return False
            on_claimed()
            job, lease = claimed
            pool_id = job.pool_id
            try:
                execute(db=db, sessions=self.sessions, settings=self.settings, job=job, lease=lease)
            finally:
                if pool_id:
                    with self._lock:
                        self._running[pool_id] -= 1
            return True

    def _take_turn(self) -> bool:
        """Wait until no other thread polls, then poll; False when stopping."""
        with self._turn:
            while self._polling and not self._stop_event.is_set():
                self._turn.wait()
            if self._stop_event.is_set():
                return False
            self._polling = True
            return True

    def _end_turn(self) -> None:
        with self._turn:
            self._polling = False
            self._turn.notify()

    def _loop(self) -> None:
        owner = mapping_service.new_owner()
        while self._take_turn():
            handed = False

            def hand_over() -> None:  # claimed: the next thread polls while this one runs
                nonlocal handed
                handed = True
                self._end_turn()

            ran = False
            try:
                ran = self._run_one(owner, hand_over)
            except Exception:
                log.exception("worker.loop_error")
            finally:
                if not handed:
                    if not ran:  # nothing runnable: keep the turn while waiting
                        self._stop_event.wait(self.interval)
                    self._end_turn()
