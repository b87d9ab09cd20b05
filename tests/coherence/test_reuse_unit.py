"""coherence.reuse: values reused for a moment, dropped at once by a pool or mapping write
committed in this process (a real database: the session's own events drop them)."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.coherence import reuse
from tenantfusion.config import Settings
from tenantfusion.pools.models import Pool
from tests.fakes import fake_pool


def test_a_value_lives_for_its_seconds() -> None:
    kept: reuse.Reuse[str, int] = reuse.Reuse(short=0.2)
    kept.put("a", 1, epoch=None)
    assert kept.get("a") == 1 and kept.get("b") is None
    time.sleep(0.25)
    assert kept.get("a") is None


def test_a_pool_written_in_this_process_drops_every_value(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    kept: reuse.Reuse[str, str] = reuse.Reuse()
    other: reuse.Reuse[str, str] = reuse.Reuse()
    with sessions() as db:
        pool = fake_pool(name="reused", url="fake://reuse", driver="fake", settings=settings)
        db.add(pool)
        db.commit()
        kept.put("way", "in", epoch=None)
        other.put("list", "of one pool", epoch=None)
        db.get(Pool, pool.id).is_enabled = False  # type: ignore[union-attr]
        db.commit()
    assert kept.get("way") is None and other.get("list") is None
