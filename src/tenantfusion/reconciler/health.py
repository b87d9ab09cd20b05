"""The pool health sweep: ask every enabled pool at once (bounded), record what it said
(and a sample of it, with how long the check took, for the pool's history).

No database connection is held while pools are asked: pools are read, the session is
closed, the checks run in a small thread pool, and the outcomes are written in a second
short transaction: the swept pools are read back in one query and their outcomes written
in one flush (batched UPDATEs), so 10,000 pools cost a few round trips, not 20,000. A pool
whose circuit is open fails fast (unreachable) without waiting;
once it half-opens, the sweep's check is the trial call. A pool seen back from unreachable
has its paused jobs made due at once.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import structlog
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.errors import PoolError
from tenantfusion.jobs import service as job_service
from tenantfusion.pools import breaker, history
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.base import Capabilities
from tenantfusion.pools.models import Pool

log = structlog.get_logger(__name__)


def sweep(*, sessions: sessionmaker[Session], settings: Settings) -> dict[str, str]:
    """Check every enabled pool; returns ``{pool name: status}`` as recorded."""
    with sessions() as db:
        pools = [p for p in pool_service.list_(db=db) if p.is_enabled]
        for pool in pools:
            db.expunge(pool)
    if not pools:
        return {}

    def ask(pool: Pool) -> tuple[Capabilities | PoolError, float]:
        started = time.monotonic()
        outcome = pool_service.check(pool=pool, settings=settings)
        return outcome, time.monotonic() - started

    workers = max(1, min(settings.health_sweep_concurrency, len(pools)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tf-health") as executor:
        outcomes = list(executor.map(ask, pools))
    statuses: dict[str, str] = {}
    with sessions() as db:
        current = {p.id: p for p in pool_service.list_(db=db)}  # one query; deleted ones gone
        back: list[Pool] = []
        samples: list[history.Sample] = []
        for detached, (outcome, took) in zip(pools, outcomes, strict=True):
            found = current.get(detached.id)
            if found is None:  # deleted meanwhile
                continue
            pool = found
            if pool_service.record_health(db=db, pool=pool, outcome=outcome):
                back.append(pool)
            statuses[pool.name] = pool.status.value
            samples.append(
                history.Sample(
                    pool_id=pool.id,
                    status=pool.status.value,
                    latency_ms=round(took * 1000) if isinstance(outcome, Capabilities) else None,
                    breaker=breaker.state(pool.name),
                )
            )
        history.record(db=db, samples=samples)
        for pool in back:
            resumed = job_service.resume_pool(db=db, pool_id=pool.id)
            log.info("pool.back", pool=pool.name, resumed_jobs=resumed)
        db.commit()
    return statuses
