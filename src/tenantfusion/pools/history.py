"""Pool health over time: the reconciler's sweep records one sample per pool, the last
``KEEP`` per pool are kept (older ones are dropped as new ones come)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tenantfusion.db import utcnow
from tenantfusion.pools.models import PoolHealthSample

#: Samples kept per pool (at the default sweep interval, the last hour or so).
KEEP = 60


@dataclass(frozen=True)
class Sample:
    """One pool's health as one sweep saw it."""

    pool_id: str
    status: str
    latency_ms: int | None
    breaker: int


def record(*, db: Session, samples: Sequence[Sample], keep: int = KEEP) -> None:
    """Add one sweep's samples and drop every pool's samples beyond its newest ``keep``,
    in two statements whatever the number of pools (flushes)."""
    if not samples:
        return
    at = utcnow()
    db.add_all(
        PoolHealthSample(
            pool_id=s.pool_id, at=at, status=s.status, latency_ms=s.latency_ms, breaker=s.breaker
        )
        for s in samples
    )
    db.flush()
    rank = (
        func.row_number()
        .over(
            partition_by=PoolHealthSample.pool_id,
            order_by=(PoolHealthSample.at.desc(), PoolHealthSample.id.desc()),
        )
        .label("rank")
    )
    ranked = select(PoolHealthSample.id, rank).subquery()
    stale = select(ranked.c.id).where(ranked.c.rank > keep)
    db.execute(
        delete(PoolHealthSample)
        .where(PoolHealthSample.id.in_(stale))
        .execution_options(synchronize_session=False)
    )


def recent(*, db: Session, pool_id: str, limit: int = KEEP) -> list[PoolHealthSample]:
    """The pool's newest ``limit`` samples, oldest first."""
    newest = db.scalars(
        select(PoolHealthSample)
        .where(PoolHealthSample.pool_id == pool_id)
        .order_by(PoolHealthSample.at.desc(), PoolHealthSample.id.desc())
        .limit(limit)
    )
    return list(reversed(list(newest)))
