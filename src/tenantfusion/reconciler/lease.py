"""Take and keep a leader lease with one atomic conditional UPDATE (any number of replicas)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenantfusion.db import utcnow
from tenantfusion.reconciler.models import LeaderLease


def acquire(*, db: Session, name: str, owner: str, seconds: float) -> bool:
    """Take the lease ``name`` if free, expired or already ours, for ``seconds`` (commits)."""
    if db.get(LeaderLease, name) is None:
        db.add(LeaderLease(name=name))
        try:
            db.commit()
        except IntegrityError:  # another replica inserted it first
            db.rollback()
    now = utcnow()
    result = db.execute(
        update(LeaderLease)
        .where(
            LeaderLease.name == name,
            LeaderLease.owner.is_(None)
            | (LeaderLease.owner == owner)
            | (LeaderLease.expires_at < now),
        )
        .values(owner=owner, expires_at=now + timedelta(seconds=seconds), ran_at=now)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(*, db: Session, name: str, owner: str) -> None:
    """Give the lease back if we hold it (commits)."""
    db.execute(
        update(LeaderLease)
        .where(LeaderLease.name == name, LeaderLease.owner == owner)
        .values(owner=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )
    db.commit()
