"""Own logic of the resource engine on in-memory fake pools: keyset pagination across
pools, filters, a failing pool giving a partial list, isolation, failed creates leaving
nothing, the scheduler's policy. (Against real OpenStack: test_servers_full.py.)"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from tenantfusion.errors import InvalidInput, NotFound, PoolUnavailable
from tenantfusion.platform.principal import Principal
from tenantfusion.pools.models import Pool, PoolStatus
from tenantfusion.resources import networks, scheduler
from tenantfusion.resources.models import RoutingRecord
from tenantfusion.resources.schemas import ListQuery, NetworkCreate, ResourcePage
from tests.resources.engine_world import POOLS, World, make


def _list(w: World, actor: Principal, query: ListQuery, mode: str) -> ResourcePage[Any]:
    """One page, as the console reads it (``thread``: blocking) or as the HTTP route does
    (``loop``: awaited on an event loop)."""
    if mode == "loop":
        return asyncio.run(
            networks.list_async(sessions=w.sessions, actor=actor, settings=w.settings, query=query)
        )
    with w.sessions() as db:
        return networks.list_(db=db, actor=actor, settings=w.settings, query=query)


@pytest.fixture(params=["thread", "loop"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _walk(
    w: World, actor: Principal, limit: int, mode: str = "thread", **filters: str
) -> tuple[list[str], dict]:
    seen: list[str] = []
    marker = None
    outcome: dict[str, str] = {}
    while True:
        page = _list(w, actor, ListQuery(limit=limit, marker=marker, **filters), mode)
        seen += [n.id for n in page.items]
        outcome.update(page.pools)  # each page reports the pools it asked
        if page.next_marker is None:
            return seen, outcome
        assert len(page.items) == limit
        marker = page.next_marker


def test_pages_walk_every_pool_once_in_creation_order(world: World, mode: str) -> None:
    ids = make(world, world.alice, 11)
    for limit in (1, 3, 4, 11, 50):
        seen, outcome = _walk(world, world.alice, limit, mode)
        assert seen == ids, limit
        assert outcome == {p: "ok" for p in POOLS}
    seen, _ = _walk(world, world.alice, 2, mode, pool="fb")
    assert seen == ids[1::3]
    seen, _ = _walk(world, world.alice, 2, mode, name="net-04")
    assert seen == [ids[4]]
    seen, _ = _walk(world, world.alice, 2, mode, status="active")  # case-insensitive
    assert seen == ids
    assert _walk(world, world.alice, 2, mode, status="BUILD")[0] == []
    with pytest.raises(NotFound):
        _walk(world, world.alice, 2, mode, pool="no-such-pool")


def test_objects_created_and_deleted_between_pages_are_neither_repeated_nor_skipped(
    world: World,
) -> None:
    ids = make(world, world.alice, 6)
    with world.sessions() as db:
        first = networks.list_(
            db=db, actor=world.alice, settings=world.settings, query=ListQuery(limit=3)
        )
    assert [n.id for n in first.items] == ids[:3]
    networks.delete(
        sessions=world.sessions, actor=world.alice, settings=world.settings, record_id=ids[1]
    )
    networks.delete(
        sessions=world.sessions, actor=world.alice, settings=world.settings, record_id=ids[4]
    )
    later = make(world, world.alice, 1)
    with world.sessions() as db:
        rest = networks.list_(
            db=db,
            actor=world.alice,
            settings=world.settings,
            query=ListQuery(limit=10, marker=first.next_marker),
        )
    assert [n.id for n in rest.items] == [ids[3], ids[5], *later]


def test_a_pool_that_fails_is_reported_and_the_list_is_partial(world: World, mode: str) -> None:
    ids = make(world, world.alice, 6)
    world.clouds["fb"].down = True
    seen, outcome = _walk(world, world.alice, 2, mode)
    assert outcome == {"fa": "ok", "fb": "unavailable", "fc": "ok"}
    assert seen == [i for n, i in enumerate(ids) if n % 3 != 1]


def test_a_named_pool_with_nothing_past_the_marker_is_not_reported(world: World, mode: str) -> None:
    """``pool=`` asks the pool before reading the records; when none of them is there
    past the marker (or the tenant has no mapping there), the page is as if it had not
    been asked: empty, and the pool absent from ``pools``."""
    ids = make(world, world.alice, 3)  # one network in each of fa, fb, fc
    first = _list(world, world.alice, ListQuery(limit=1), mode)
    assert [n.id for n in first.items] == [ids[0]] and first.next_marker
    after = _list(world, world.alice, ListQuery(pool="fa", marker=first.next_marker), mode)
    assert (after.items, after.pools) == ([], {})
    again = _list(world, world.alice, ListQuery(pool="fb", marker=first.next_marker), mode)
    assert ([n.id for n in again.items], again.pools) == ([ids[1]], {"fb": "ok"})
    nothing = _list(world, world.bob, ListQuery(pool="fa"), mode)
    assert (nothing.items, nothing.pools) == ([], {})
    with pytest.raises(InvalidInput):
        _list(world, world.alice, ListQuery(pool="fa", marker="nope!"), mode)


def test_a_hanging_pool_times_out_while_the_loop_keeps_serving(world: World) -> None:
    """The route's list waits for pools on the event loop: a pool that hangs is reported
    as ``timeout`` at the deadline, its objects left out, and meanwhile the loop goes on
    running other work (no thread of it is blocked)."""
    ids = make(world, world.alice, 3)
    world.clouds["fb"].hang_on.add("list_network")
    settings = world.settings.model_copy(update={"pool_timeout_seconds": 0.5})

    async def run() -> tuple[ResourcePage[Any], int, float]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        page = await networks.list_async(
            sessions=world.sessions, actor=world.alice, settings=settings, query=ListQuery()
        )
        took = time.monotonic() - started
        ticker.cancel()
        return page, ticks, took

    try:
        page, ticks, took = asyncio.run(run())
    finally:
        world.clouds["fb"].resume.set()
    assert page.pools == {"fa": "ok", "fb": "timeout", "fc": "ok"}
    assert [n.id for n in page.items] == [ids[0], ids[2]]
    assert 0.5 <= took < 5 and ticks >= 10, (took, ticks)


def test_tenants_see_only_their_own_objects(world: World) -> None:
    mine = make(world, world.alice, 3)
    theirs = make(world, world.bob, 2)
    assert _walk(world, world.alice, 10)[0] == mine
    assert _walk(world, world.bob, 10)[0] == theirs
    with world.sessions() as db, pytest.raises(NotFound):
        networks.show(db=db, actor=world.bob, settings=world.settings, record_id=mine[0])
    with pytest.raises(NotFound):
        networks.delete(
            sessions=world.sessions, actor=world.bob, settings=world.settings, record_id=mine[0]
        )


def test_a_refused_create_leaves_no_record(world: World) -> None:
    world.clouds["fa"].reject_on.add("create_network")
    with pytest.raises(Exception, match="fake pool refuses"):
        make(world, world.alice, 1)
    with world.sessions() as db:
        assert db.scalar(select(func.count()).select_from(RoutingRecord)) == 0
    assert not world.clouds["fa"].objects


def test_a_lost_answer_keeps_the_record_until_reconcile_settles_it(world: World) -> None:
    from tenantfusion.resources.models import RecordState
    from tenantfusion.resources.reconcile import reconcile_records

    make(world, world.alice, 1)  # onboards alice into fa
    world.clouds["fa"].fail_on.add("create_network")
    with pytest.raises(Exception, match="fake pool down"):
        make(world, world.alice, 1)
    with world.sessions() as db:
        states = [r.state for r in db.scalars(select(RoutingRecord))]
    assert sorted(states) == [RecordState.active, RecordState.creating]
    assert len(_walk(world, world.alice, 10)[0]) == 1  # the unsettled one is not listed
    world.clouds["fa"].fail_on.clear()
    settings = world.settings.model_copy(update={"lease_seconds": 0})
    with world.sessions() as db:
        pool = db.scalars(select(Pool).where(Pool.name == "fa")).one()
        report = reconcile_records(db=db, pool=pool, settings=settings)
    assert [d["kind"] for d in report["dropped"]] == ["network"]
    with world.sessions() as db:
        assert db.scalar(select(func.count()).select_from(RoutingRecord)) == 1


def test_bad_marker_is_invalid_input(world: World) -> None:
    with world.sessions() as db, pytest.raises(InvalidInput):
        networks.list_(
            db=db, actor=world.alice, settings=world.settings, query=ListQuery(marker="nope!")
        )


def test_scheduler_prefers_mapped_pools_then_honours_selector_and_health(world: World) -> None:
    def choose(**kw: object) -> tuple[str, str]:
        with world.sessions() as db:
            pool, placement = scheduler.choose(
                db=db,
                settings=world.settings,
                tenant_id=world.alice.tenant_id or "",
                requested=None,
                needs=("network",),
                **kw,  # type: ignore[arg-type]
            )
        return pool.name, placement.reason

    assert choose(selector=None)[0] == "fa"  # no mapping anywhere: first by name
    assert choose(selector={"zone": "z2"})[0] == "fc"
    networks.create(
        sessions=world.sessions,
        actor=world.alice,
        data=NetworkCreate(name="n", pool="fb"),
        settings=world.settings,
    )
    name, reason = choose(selector=None)
    assert name == "fb" and "mapping" in reason
    with world.sessions() as db:
        for p in db.scalars(select(Pool)):
            p.status = PoolStatus.unreachable if p.name == "fb" else p.status
        db.commit()
    name, reason = choose(selector=None)
    assert name == "fa" and "fb (unreachable)" in reason
    with pytest.raises(PoolUnavailable, match="labels do not match pool_selector"):
        choose(selector={"zone": "nowhere"})
    with pytest.raises(PoolUnavailable):
        choose(selector=None, fits=lambda pool: "no room")


def test_scheduler_asks_only_a_group_of_candidates(world: World) -> None:
    settings = world.settings.model_copy(update={"scheduler_candidates": 1})
    asked: list[str] = []

    def choose(fits: scheduler.Fits) -> tuple[str, str]:
        with world.sessions() as db:
            pool, placement = scheduler.choose(
                db=db,
                settings=settings,
                tenant_id=world.alice.tenant_id or "",
                requested=None,
                selector=None,
                needs=("network",),
                fits=fits,
            )
        return pool.name, placement.reason

    def fits(pool: Pool) -> str | None:
        asked.append(pool.name)
        return None

    networks.create(
        sessions=world.sessions,
        actor=world.alice,
        data=NetworkCreate(name="n", pool="fc"),
        settings=world.settings,
    )
    assert choose(fits)[0] == "fc" and asked == ["fc"]  # the tenant's own pool, alone

    def full_in_fc(pool: Pool) -> str | None:
        asked.append(pool.name)
        return "no room" if pool.name == "fc" else None

    asked.clear()
    name, reason = choose(full_in_fc)  # the next group only when no pool of a group fits
    assert name in ("fa", "fb") and asked == ["fc", name]
    assert "no mapping yet" in reason and "fc (no room)" in reason


def test_reconcile_adopts_interrupted_creates_and_reports_the_rest(world: World) -> None:
    from tenantfusion.mapping.models import Mapping
    from tenantfusion.pools.drivers.remote import RemoteObject
    from tenantfusion.resources.models import RecordState
    from tenantfusion.resources.reconcile import reconcile_records

    lost = make(world, world.alice, 2)[0]  # net-00, in pool fa
    cloud = world.clouds["fa"]
    with world.sessions() as db:
        fa = db.scalars(select(Pool).where(Pool.name == "fa")).one()
        mapping = db.scalars(select(Mapping).where(Mapping.pool_id == fa.id)).one()
        project = mapping.project_remote_id
        # a create interrupted after the pool made the object, before the record was activated
        crashed = RoutingRecord(
            tenant_id=world.alice.tenant_id, pool_id=mapping.pool_id, kind="network", name="c"
        )
        # ... and one interrupted before the pool made anything
        never = RoutingRecord(
            tenant_id=world.alice.tenant_id, pool_id=mapping.pool_id, kind="network", name="n"
        )
        db.add_all([crashed, never])
        db.commit()
        crashed_id, never_id = crashed.id, never.id
    for remote_id, record_id in (("net-x", crashed_id), ("net-y", "no-such-record")):
        cloud.objects[remote_id] = RemoteObject(
            kind="network",
            remote_id=remote_id,
            name="x",
            status="ACTIVE",
            project_id=project,
            description=f"tenantfusion {record_id}",
        )
    gone = next(o.remote_id for o in cloud.objects.values() if o.name == "net-00")
    cloud.objects.pop(gone)
    with world.sessions() as db:  # within the grace period a vanished object is not reported
        pool = db.scalars(select(Pool).where(Pool.name == "fa")).one()
        report = reconcile_records(db=db, pool=pool, settings=world.settings)
        assert report["missing"] == [] and db.get(RoutingRecord, lost).missing_since is None
    settings = world.settings.model_copy(update={"lease_seconds": 0, "missing_grace_seconds": 0})
    with world.sessions() as db:
        pool = db.scalars(select(Pool).where(Pool.name == "fa")).one()
        report = reconcile_records(db=db, pool=pool, settings=settings)
    assert report["adopted"] == [{"id": crashed_id, "kind": "network", "remote_id": "net-x"}]
    assert report["dropped"] == [{"id": never_id, "kind": "network"}]
    assert [m["id"] for m in report["missing"]] == [lost]
    assert [u["remote_id"] for u in report["unrouted"]] == ["net-y"]
    with world.sessions() as db:
        assert db.get(RoutingRecord, crashed_id).state is RecordState.active
        assert db.get(RoutingRecord, never_id) is None
        marked = db.get(RoutingRecord, lost).missing_since
        assert marked is not None and report["missing"][0]["missing_since"] == marked.isoformat()
    cloud.objects[gone] = RemoteObject(  # the object is back: the mark is cleared
        kind="network",
        remote_id=gone,
        name="net-00",
        status="ACTIVE",
        project_id=project,
        description=f"tenantfusion {lost}",
    )
    with world.sessions() as db:
        pool = db.scalars(select(Pool).where(Pool.name == "fa")).one()
        assert reconcile_records(db=db, pool=pool, settings=settings)["missing"] == []
        assert db.get(RoutingRecord, lost).missing_since is None
