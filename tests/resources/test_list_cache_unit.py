"""list_cache: a list of a tenant whose records, mappings and pools are kept runs with no
database statement; a write committed here, a write another replica committed (once the
watcher reads its epoch), or an object a pool reports that the kept records do not know,
each makes the next list read again. (Fake pools: this is the cache's own logic; lists
against real OpenStack: test_servers_full.py, test_replicas_full.py.)"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, update

from tenantfusion import coherence
from tenantfusion.coherence import Scope
from tenantfusion.coherence import service as epoch_service
from tenantfusion.coherence.models import CacheEpoch
from tenantfusion.platform.principal import Principal
from tenantfusion.pools.drivers.remote import RemoteObject
from tenantfusion.resources import list_cache, networks
from tenantfusion.resources.schemas import ListQuery, ResourcePage
from tests.resources.engine_world import World, make


@pytest.fixture
def watching(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[coherence.Watcher]:
    monkeypatch.setattr(epoch_service, "POLL_SECONDS", 0.05)
    watcher = coherence.Watcher(sessions=world.sessions, url=world.settings.resolved_database_url)
    watcher.start()
    deadline = time.monotonic() + 5
    while coherence.current(Scope.records) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    yield watcher
    watcher.stop()
    watcher.join(timeout=5)


class Statements:
    """Counts the statements this test's threads send (the watcher's polls left out)."""

    def __init__(self, world: World) -> None:
        self.count = 0
        self._engine = world.sessions.kw["bind"]
        event.listen(self._engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        if threading.current_thread().name != "cache-epoch":
            self.count += 1

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)


@pytest.fixture
def statements(world: World) -> Iterator[Statements]:
    counted = Statements(world)
    yield counted
    counted.close()


def _list(world: World, actor: Principal, **query: Any) -> ResourcePage[Any]:
    return asyncio.run(
        networks.list_async(
            sessions=world.sessions, actor=actor, settings=world.settings, query=ListQuery(**query)
        )
    )


def _ids(page: ResourcePage[Any]) -> list[str]:
    return [n.id for n in page.items]


def _counted(
    statements: Statements, world: World, actor: Principal, **query: Any
) -> tuple[list[str], int]:
    before = statements.count
    page = _list(world, actor, **query)
    return _ids(page), statements.count - before


def test_a_kept_list_reads_nothing_and_a_local_write_is_listed_at_once(
    world: World, watching: coherence.Watcher, statements: Statements
) -> None:
    ids = make(world, world.alice, 4)
    first, read = _counted(statements, world, world.alice)
    assert first == ids and read > 0
    assert _counted(statements, world, world.alice) == (ids, 0)
    _list(world, world.alice, pool="fb")  # the first list naming it: the pool by its name
    assert _counted(statements, world, world.alice, pool="fb") == ([ids[1]], 0)
    time.sleep(1.1)  # past every short time: kept on the epochs alone
    assert _counted(statements, world, world.alice) == (ids, 0)
    later = make(world, world.alice, 1)  # committed here: dropped at once
    listed, read = _counted(statements, world, world.alice)
    assert listed == ids + later and read > 0
    networks.delete(
        sessions=world.sessions, actor=world.alice, settings=world.settings, record_id=ids[0]
    )
    assert _list(world, world.alice).items[0].id == ids[1]
    listed, read = _counted(statements, world, world.bob)  # bob's own, not alice's
    assert listed == [] and read > 0


def test_another_replicas_create_is_listed_before_the_watcher_sees_it(
    world: World, watching: coherence.Watcher
) -> None:
    """The kept records of a moment ago lack a network created since on another replica;
    its pool lists it, and the list reads the records again instead of leaving it out."""
    ids = make(world, world.alice, 3)
    assert _ids(_list(world, world.alice)) == ids
    kept = list_cache._records.get(world.alice.tenant_id or "")
    assert kept is not None
    later = make(world, world.alice, 1)  # as if on another replica: put the old back
    list_cache._records.put(
        world.alice.tenant_id or "", kept, epoch=coherence.current(Scope.records)
    )
    assert list_cache._records.get(world.alice.tenant_id or "") is kept
    assert _ids(_list(world, world.alice)) == ids + later


def test_objects_without_a_record_are_read_once(
    world: World, watching: coherence.Watcher, statements: Statements
) -> None:
    """A pool lists objects of the tenant's project that have no record (here: one put
    there behind tenantfusion's back): left out of the list, and known as such, so the
    lists after it read nothing."""
    ids = make(world, world.alice, 1)  # in fa
    cloud = world.clouds["fa"]
    project = next(o.project_id for o in cloud.objects.values())
    stray = RemoteObject(
        kind="network", remote_id="stray-1", name="stray", status="ACTIVE", project_id=project
    )
    cloud.objects[stray.remote_id] = stray
    listed, read = _counted(statements, world, world.alice)
    assert listed == ids and read > 0
    assert _counted(statements, world, world.alice) == (ids, 0)


def test_a_write_seen_by_the_watcher_ends_the_kept_records(
    world: World, watching: coherence.Watcher, statements: Statements
) -> None:
    ids = make(world, world.alice, 2)
    _list(world, world.alice)
    assert _counted(statements, world, world.alice) == (ids, 0)
    with world.sessions.kw["bind"].begin() as conn:  # another replica's bump
        conn.execute(
            update(CacheEpoch)
            .where(CacheEpoch.id == Scope.records.value)
            .values(value=CacheEpoch.value + 1)
        )
    time.sleep(epoch_service.POLL_SECONDS * 4)
    listed, read = _counted(statements, world, world.alice)
    assert listed == ids and read > 0


def test_nothing_is_kept_without_a_watcher(world: World, statements: Statements) -> None:
    ids = make(world, world.alice, 2)
    _list(world, world.alice)
    listed, read = _counted(statements, world, world.alice)
    assert listed == ids and read > 0
