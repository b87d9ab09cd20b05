"""Pool health over time: the reconciler's sweep records one sample per pool, the last
``KEEP`` per pool are kept (older ones are dropped as new ones come)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tenantfusion.db import utcnow
from tenantfusion.pools.models import PoolHealthSample

#: Samples kept per pool (at the default sweep interval, the last hour or so).
KEEP = 60


def record(
    *,
    db: Session,
    pool_id: str,
    status: str,
    latency_ms: int | None,
    breaker: int,
    keep: int = KEEP,
) -> None:
    """Add a sample and drop the pool's samples beyond the newest ``keep`` (flushes)."""
    db.add(
        PoolHealthSample(
            pool_id=pool_id, at=utcnow(), status=status, latency_ms=latency_ms, breaker=breaker
        )
    )
    db.flush()
    stale = (
        select(PoolHealthSample.id)
        .where(PoolHealthSample.pool_id == pool_id)
        .order_by(PoolHealthSample.at.desc(), PoolHealthSample.id.desc())
        .offset(keep)
    )
    db.execute(
        delete(PoolHealthSample)
        .where(PoolHealthSample.id.in_(list(db.scalars(stale))))
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
