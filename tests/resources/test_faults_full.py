"""A hung pool and a dead pool (issue 10, bulkheads), on two real full pools, one served
tenantfusion and the machine's PostgreSQL.

West's nova-api and neutron are frozen (SIGSTOP of their uwsgi masters and workers: the
sockets accept, nothing answers), then stopped. Meanwhile tenant ``calm`` (east only) and
four clients of tenant ``hit`` (east + west) list servers and `/healthz` is polled:
every answer is a 200, hit's lists are partial with west ``timeout``/``unavailable``,
calm's are whole, and no database connection sits in an open transaction while the
requests wait for west. Latency goals (calm's p99 within 1.2x, `/healthz` < 100 ms) are
measured by ``bench/bench_faults.py``; here `/healthz` must only never wait for a pool.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantfusion.testbed import PoolInfo, ensure_pools, start_service, stop_service
from tests.conftest import pool_body
from tests.delay_proxy import DelayProxy
from tests.live import frozen
from tests.resources.fault_world import (
    POOL_TIMEOUT,
    Load,
    World,
    fault_world,
    run_load,
    server,
    tenant,
    warm,
)

pytestmark = [pytest.mark.pools, pytest.mark.postgres]

FAULTED = ("nova", "neutron")


@pytest.fixture(scope="module")
def full_pools() -> list[PoolInfo]:
    return ensure_pools(count=2, kind="full")


SILENT = {"timeout", "unavailable"}


def assert_bulkheaded(world: World, load: Load, *, faulted: str = "west", hit: str = "hit") -> None:
    assert set(load.calm.statuses) == {200}, load.calm.statuses
    assert all(b["pools"] == {"east": "ok"} for b in load.calm.bodies)
    assert all(b["items"][0]["id"] == world.servers["calm-east"] for b in load.calm.bodies)
    for hits in load.hit:
        assert hits.statuses and set(hits.statuses) == {200}, hits.statuses  # 0 server errors
        for body in hits.bodies:
            assert body["pools"]["east"] == "ok" and body["pools"][faulted] in SILENT, body
            assert [i["id"] for i in body["items"]] == [world.servers[f"{hit}-east"]]  # partial
    assert set(load.healthz.statuses) == {200}
    # never queued behind a pool call (that took POOL_TIMEOUT s and more before)
    assert max(load.healthz.ms) < POOL_TIMEOUT * 1000 / 3, max(load.healthz.ms)
    assert load.held_max == 0, "a request held a database connection across a pool call"


def test_a_hung_pool_and_a_dead_pool(full_pools: list[PoolInfo], tmp_path: Path) -> None:
    west = full_pools[1]
    with fault_world(full_pools, tmp_path) as world:
        assert len(warm(world, world.hit, {"east", "west"})["items"]) == 2

        with frozen(west, FAULTED):
            load = run_load(world, 4 * POOL_TIMEOUT)
            shown = world.http.get(f"/v1/servers/{world.servers['hit-west']}", headers=world.hit)
        assert_bulkheaded(world, load)
        # one object in the hung pool: a problem naming the pool, not a 500
        assert shown.status_code in (502, 504), shown.text
        assert shown.json()["type"] in ("pool-timeout", "pool-unreachable")

        stopped = []
        try:
            for service in FAULTED:
                stop_service(west, service)
                stopped.append(service)
            load = run_load(world, 2 * POOL_TIMEOUT)
            assert_bulkheaded(world, load)
        finally:
            for service in reversed(stopped):
                start_service(west, service)

        # west answers again: once its breaker lets a trial through, lists are whole
        assert len(warm(world, world.hit, {"east", "west"})["items"]) == 2


def test_a_slow_pool_through_a_delaying_proxy(full_pools: list[PoolInfo], tmp_path: Path) -> None:
    """West's cloud registered once more as pool ``slow``, reached through loopback proxies
    that answer late (Keystone's catalog rewritten to the Nova and Neutron proxies): with
    answers twice as slow as the pool timeout, tenant lag's lists report ``slow`` silent,
    calm's stay whole, and the breaker soon fails the slow pool fast."""
    west = full_pools[1]
    real = {s: f"127.0.0.1:{west.ports[s]}".encode() for s in ("nova", "neutron")}
    with DelayProxy(west.ports["nova"]) as nova, DelayProxy(west.ports["neutron"]) as neutron:
        proxies = {"nova": nova, "neutron": neutron}
        rewrite = {real[s]: f"127.0.0.1:{p.port}".encode() for s, p in proxies.items()}
        with (
            DelayProxy(west.ports["keystone"], rewrite=rewrite) as keystone,
            fault_world(full_pools, tmp_path) as world,
        ):
            body = pool_body(west, "slow", default_network_cidr="10.78.3.0/24")
            body["auth"]["auth_url"] = f"http://127.0.0.1:{keystone.port}/v3"
            r = world.http.post("/v1/pools", headers=world.admin, json=body)
            assert r.status_code == 201, r.text
            with world.served(patient=True):
                lag = tenant(world.http, world.admin, f"lag-{world.database[-8:]}")
                server(world, lag, "lag-east", "east")
                server(world, lag, "lag-slow", "slow")
            warm(world, lag, {"east", "slow"})
            for proxy in proxies.values():
                proxy.delay = 2 * POOL_TIMEOUT
            # long enough for the lane to see three slow calls fail even on a loaded box
            load = run_load(world, 6 * POOL_TIMEOUT, hit=lag)
            for proxy in proxies.values():
                proxy.delay = 0.0
            assert_bulkheaded(world, load, faulted="slow", hit="lag")
            outcomes = [b["pools"]["slow"] for hits in load.hit for b in hits.bodies]
            # the breaker opened on the slow answers: later lists fail fast
            assert "unavailable" in outcomes, outcomes
