"""coherence: the writes caches depend on bump the epoch in their own transaction (both
databases), bookkeeping writes and inserts do not, and a cached entry outlives its short
time only while the watcher reads an unchanged epoch."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion import coherence
from tenantfusion.coherence import service as epoch_service
from tenantfusion.coherence.models import CacheEpoch
from tenantfusion.config import Settings
from tenantfusion.db import utcnow
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.models import Token, User
from tenantfusion.platform.principal import SYSTEM
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate
from tenantfusion.pools.models import Pool
from tests.fakes import fake_pool


def _epoch(sessions: sessionmaker[Session]) -> int:
    with sessions() as db:
        value = db.scalar(select(CacheEpoch.value))
    assert value is not None
    return value


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Settings) -> dict[str, str]:
    """A tenant with its admin, a token of that admin, a pool and a mapping there."""
    with sessions.begin() as db:
        tenant = platform_service.create_tenant(
            db=db,
            actor=SYSTEM,
            data=TenantCreate(
                name="t1", admin=TenantAdmin(username="boss", password="pw-12345678")
            ),
        )
        user = db.scalars(select(User).where(User.tenant_id == tenant.id)).one()
        db.add(Token(digest="d" * 64, user_id=user.id, expires_at=utcnow() + timedelta(hours=1)))
        pool = fake_pool(name="p1", url="fake://epoch", driver="fake", settings=settings)
        db.add(pool)
        db.flush()
        db.add(
            Mapping(
                tenant_id=tenant.id,
                pool_id=pool.id,
                state=MappingState.active,
                project_name="p",
                user_name="u",
            )
        )
        db.flush()
        mapping = db.scalars(select(Mapping)).one()
        return {"user": user.id, "pool": pool.id, "mapping": mapping.id, "tenant": tenant.id}


def test_writes_that_caches_depend_on_bump_it(
    sessions: sessionmaker[Session], world: dict[str, str]
) -> None:
    start = _epoch(sessions)
    with sessions.begin() as db:  # a revocation, as a bulk statement
        db.execute(update(Token).values(revoked_at=utcnow()))
    assert _epoch(sessions) == start + 1
    with sessions.begin() as db:  # a disabled user, through the ORM
        db.get_one(User, world["user"]).is_enabled = False
    assert _epoch(sessions) == start + 2
    with sessions.begin() as db:  # a mapping leaving service
        db.get_one(Mapping, world["mapping"]).state = MappingState.deleting
    assert _epoch(sessions) == start + 3
    with sessions.begin() as db:  # a pool disabled, and a second watched change: one bump
        db.get_one(Pool, world["pool"]).is_enabled = False
        db.get_one(User, world["user"]).is_enabled = True
    assert _epoch(sessions) == start + 4


def test_bookkeeping_inserts_and_rollbacks_do_not(
    sessions: sessionmaker[Session], world: dict[str, str]
) -> None:
    start = _epoch(sessions)
    with sessions.begin() as db:  # a health check's time, the same status again
        pool = db.get_one(Pool, world["pool"])
        pool.checked_at, pool.status = utcnow(), pool.status
    with sessions() as db:  # a mapping's lease, taken and given back
        assert mapping_service.try_lease(
            db=db,
            mapping_id=world["mapping"],
            owner="me",
            seconds=30,
            allow_states=(MappingState.active,),
        )
        mapping_service.release_lease(db=db, mapping_id=world["mapping"], owner="me")
    with sessions.begin() as db:  # a login's new token
        db.add(Token(digest="e" * 64, user_id=world["user"], expires_at=utcnow()))
    with sessions() as db:  # a disable that never commits
        db.get_one(User, world["user"]).is_enabled = False
        db.flush()
        db.rollback()
    assert _epoch(sessions) == start


@pytest.fixture
def watching(
    sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[coherence.Watcher]:
    monkeypatch.setattr(epoch_service, "POLL_SECONDS", 0.05)
    watcher = coherence.Watcher(sessions=sessions, url=settings.resolved_database_url)
    watcher.start()
    deadline = time.monotonic() + 5
    while coherence.current() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    yield watcher
    watcher.stop()
    watcher.join(timeout=5)


def _settle() -> None:
    time.sleep(epoch_service.POLL_SECONDS * 4)


def test_an_entry_lives_on_while_the_epoch_holds_and_ends_when_it_moves(
    sessions: sessionmaker[Session], watching: coherence.Watcher, world: dict[str, str]
) -> None:
    epoch = coherence.current()
    assert epoch == _epoch(sessions)
    kept = coherence.stamp(epoch=epoch, short=0.05, long=60)
    time.sleep(0.1)
    assert kept.valid()  # past its short time, the epoch unchanged
    # another replica's write: a raw connection, so no event of this process sees it
    engine = sessions.kw["bind"]
    with engine.begin() as conn:
        conn.execute(update(CacheEpoch).values(value=CacheEpoch.value + 1))
    _settle()
    assert coherence.current() == epoch + 1  # type: ignore[operator]
    assert not kept.valid()
    assert not coherence.stamp(epoch=None, short=0.0, long=60).valid()  # read unwatched


def test_nothing_outlives_its_short_time_once_the_watcher_stops(
    sessions: sessionmaker[Session], watching: coherence.Watcher
) -> None:
    kept = coherence.stamp(epoch=coherence.current(), short=0.05, long=60)
    watching.stop()
    watching.join(timeout=5)
    assert coherence.current() is None
    time.sleep(0.1)
    assert not kept.valid()


def test_a_change_committed_here_drops_caches_at_once(
    sessions: sessionmaker[Session], world: dict[str, str]
) -> None:
    dropped: list[int] = []
    epoch_service._listeners.append(lambda: dropped.append(1))
    try:
        with sessions() as db:
            db.get_one(User, world["user"]).is_enabled = False
            db.flush()
            assert not dropped  # not before the commit
            db.commit()
        assert dropped
    finally:
        epoch_service._listeners.pop()


def test_the_bump_is_the_transactions_last_statement(
    sessions: sessionmaker[Session], world: dict[str, str], settings: Settings
) -> None:
    """Taken last, the epoch row's lock never waits inside a cycle of row locks."""
    if settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: no row locks to order")
    start = _epoch(sessions)
    with sessions() as db:
        db.get_one(User, world["user"]).is_enabled = False
        db.flush()
        with db.begin_nested():  # a savepoint's release is not the commit
            db.get_one(Pool, world["pool"]).is_enabled = False
        with sessions() as other:  # nothing taken yet: another transaction bumps freely
            other.get_one(Mapping, world["mapping"]).state = MappingState.deleting
            other.commit()
        assert _epoch(sessions) == start + 1
        db.commit()
    assert _epoch(sessions) == start + 2
