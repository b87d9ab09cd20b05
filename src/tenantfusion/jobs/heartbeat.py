"""Lease heartbeat: while a handler runs, a thread renews its job's lease every third of
the lease, from its own database session, and stops when the handler returns."""

from __future__ import annotations

import threading
from types import TracebackType

import structlog
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.service import Lease

log = structlog.get_logger(__name__)


class Heartbeat(threading.Thread):
    """``with Heartbeat(...)`` around a handler; ``lost`` is set if the lease moved on."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        lease: Lease,
        lease_seconds: float,
        lost: threading.Event,
    ) -> None:
        super().__init__(name=f"tenantfusion-heartbeat-{lease.job_id[:8]}", daemon=True)
        self.sessions, self.lease, self.lease_seconds = sessions, lease, lease_seconds
        self.interval = lease_seconds / 3
        self.lost = lost
        self.beats = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            try:
                with self.sessions() as db:
                    renewed = job_service.renew(db=db, lease=self.lease, seconds=self.lease_seconds)
            except Exception:  # the database hiccuped: try again at the next beat
                log.exception("job.heartbeat_error", job_id=self.lease.job_id)
                continue
            if not renewed:
                log.warning("job.lease_lost", job_id=self.lease.job_id)
                self.lost.set()
                return
            self.beats += 1

    def __enter__(self) -> Heartbeat:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self.join()
