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
from tenantfusion.coherence import Scope
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
from tenantfusion.resources.models import RecordState, RoutingRecord
from tests.fakes import fake_pool


def _epoch(sessions: sessionmaker[Session], scope: Scope = Scope.identity) -> int:
    with sessions() as db:
        value = db.scalar(select(CacheEpoch.value).where(CacheEpoch.id == scope.value))
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
        conn.execute(
            update(CacheEpoch)
            .where(CacheEpoch.id == Scope.identity.value)
            .values(value=CacheEpoch.value + 1)
        )
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
    epoch_service._listeners[Scope.identity].append(lambda: dropped.append(1))
    try:
        with sessions() as db:
            db.get_one(User, world["user"]).is_enabled = False
            db.flush()
            assert not dropped  # not before the commit
            db.commit()
        assert dropped
    finally:
        epoch_service._listeners[Scope.identity].pop()


def test_the_bump_is_the_transactions_last_statement(
    sessions: sessionmaker[Session], world: dict[str, str], settings: Settings
) -> None:
    """Taken last, the epoch row's lock never waits inside a cycle of row locks."""
    if settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: no row locks to order")
    start, records = _epoch(sessions), _epoch(sessions, Scope.records)
    with sessions() as db:
        db.get_one(User, world["user"]).is_enabled = False
        db.add(_record(world, "mine"))
        db.flush()
        with db.begin_nested():  # a savepoint's release is not the commit
            db.get_one(Pool, world["pool"]).is_enabled = False
        with sessions() as other:  # nothing taken yet: another transaction bumps freely
            other.get_one(Mapping, world["mapping"]).state = MappingState.deleting
            other.add(_record(world, "theirs"))
            other.commit()
        assert (_epoch(sessions), _epoch(sessions, Scope.records)) == (start + 1, records + 1)
        db.commit()
    assert (_epoch(sessions), _epoch(sessions, Scope.records)) == (start + 2, records + 2)


def _record(world: dict[str, str], remote_id: str) -> RoutingRecord:
    return RoutingRecord(
        tenant_id=world["tenant"],
        pool_id=world["pool"],
        kind="server",
        remote_id=remote_id,
        state=RecordState.active,
    )


def test_records_have_their_own_epoch_and_inserts_count_there(
    sessions: sessionmaker[Session], world: dict[str, str]
) -> None:
    """A tenant's list is kept on its records' epoch: a new record moves it (a kept list
    lacks it), tokens and pools are left to their own; quota and reconcile bookkeeping
    on a record moves nothing."""
    identity, records = _epoch(sessions), _epoch(sessions, Scope.records)
    with sessions.begin() as db:
        db.add(_record(world, "r1"))
    assert (_epoch(sessions), _epoch(sessions, Scope.records)) == (identity, records + 1)
    with sessions.begin() as db:  # bookkeeping only
        record = db.scalars(select(RoutingRecord)).one()
        record.charges, record.missing_since = {"servers": 1}, utcnow()
    assert _epoch(sessions, Scope.records) == records + 1
    with sessions.begin() as db:  # what a list shows: its state
        db.scalars(select(RoutingRecord)).one().state = RecordState.deleting
    assert _epoch(sessions, Scope.records) == records + 2
    with sessions.begin() as db:  # a record gone, and a user disabled: both, once each
        db.delete(db.scalars(select(RoutingRecord)).one())
        db.get_one(User, world["user"]).is_enabled = False
    assert (_epoch(sessions), _epoch(sessions, Scope.records)) == (identity + 1, records + 3)


def test_a_records_commit_drops_that_scope_only(
    sessions: sessionmaker[Session], world: dict[str, str]
) -> None:
    dropped: list[Scope] = []
    for scope in Scope:
        epoch_service._listeners[scope].append(lambda scope=scope: dropped.append(scope))
    try:
        with sessions.begin() as db:
            db.add(_record(world, "r2"))
        assert dropped == [Scope.records]
    finally:
        for scope in Scope:
            epoch_service._listeners[scope].pop()


def test_the_watcher_reads_every_scope(
    sessions: sessionmaker[Session], watching: coherence.Watcher, world: dict[str, str]
) -> None:
    kept = coherence.stamp(
        epoch=coherence.current(Scope.records), short=0.0, long=60, scope=Scope.records
    )
    other = coherence.stamp(epoch=coherence.current(), short=0.0, long=60)
    assert kept.valid() and other.valid()
    engine = sessions.kw["bind"]
    with engine.begin() as conn:  # another replica's new record
        conn.execute(
            update(CacheEpoch)
            .where(CacheEpoch.id == Scope.records.value)
            .values(value=CacheEpoch.value + 1)
        )
    _settle()
    assert not kept.valid() and other.valid()


def test_a_local_commit_advances_the_epoch_without_waiting_for_the_watcher(
    sessions: sessionmaker[Session],
    settings: Settings,
    world: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Entries read after this process's own commit are stamped with the epoch it wrote,
    so they outlive the watcher's next poll instead of being read twice."""
    monkeypatch.setattr(epoch_service, "POLL_SECONDS", 60)  # one poll, at the start
    watcher = coherence.Watcher(sessions=sessions, url=settings.resolved_database_url)
    watcher.start()
    try:
        deadline = time.monotonic() + 5
        while coherence.current() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        before = coherence.current()
        assert before is not None
        old = coherence.stamp(epoch=before, short=0.0, long=60)
        with sessions.begin() as db:
            db.get_one(User, world["user"]).is_enabled = False
        assert coherence.current() == before + 1 == _epoch(sessions)
        assert not old.valid()
        assert coherence.stamp(epoch=coherence.current(), short=0.0, long=60).valid()
    finally:
        watcher.stop()
        watcher.join(timeout=5)
