"""Keystone-only test-bed pools are real, separate Keystones, and `up` is idempotent."""

from __future__ import annotations

import uuid

import pytest
from keystoneauth1 import exceptions as ks_exceptions

from tenantfusion.testbed import (
    PoolInfo,
    connect,
    ensure_pools,
    start_service,
    status,
    stop_service,
)

pytestmark = pytest.mark.keystone


@pytest.fixture(scope="module")
def pools() -> list[PoolInfo]:
    return ensure_pools(count=2, kind="keystone")  # the plain function a conftest can call


def test_admin_lists_projects(pools: list[PoolInfo]) -> None:
    for pool in pools:
        names = {p.name for p in connect(pool).identity.projects()}
        assert "admin" in names, pool.name


def test_pools_are_distinct_keystones(pools: list[PoolInfo]) -> None:
    one, two = (connect(p) for p in pools)
    assert pools[0].auth_url != pools[1].auth_url
    assert one.identity.find_user("admin").id != two.identity.find_user("admin").id
    name = f"tf-testbed-{uuid.uuid4().hex[:8]}"
    project = one.identity.create_project(name=name, domain_id="default")
    try:
        assert one.identity.find_project(name) is not None
        assert two.identity.find_project(name) is None
    finally:
        one.identity.delete_project(project)


def test_up_twice_reuses_running_pools(pools: list[PoolInfo]) -> None:
    def pids() -> dict[str, int]:
        return {
            name: pool["services"]["keystone"]["pid"] for name, pool in status()["pools"].items()
        }

    before = pids()
    again = ensure_pools(count=2, kind="keystone")
    assert again == pools
    assert pids() == before
    assert all(before[p.name] for p in pools)


def test_one_pool_outage_and_recovery(pools: list[PoolInfo]) -> None:
    down = pools[1]
    assert stop_service(down, "keystone") is True
    try:
        with pytest.raises(ks_exceptions.ConnectFailure):
            connect(down).identity.get_token()
        assert "admin" in {p.name for p in connect(pools[0]).identity.projects()}
        assert status()["pools"][down.name]["up"] is False
    finally:
        start_service(down, "keystone")
    assert "admin" in {p.name for p in connect(down).identity.projects()}
