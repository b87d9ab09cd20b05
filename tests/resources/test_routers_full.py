"""Routers through a full OpenStack pool: lazy onboarding in one call, routing records,
distributed routers where the pool's Neutron has DVR (checked as the pool's admin)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tenantfusion.testbed import connect, ensure_pools
from tests.conftest import Api, pool_body
from tests.platform.test_views import assert_problem

pytestmark = pytest.mark.pools


@pytest.fixture(scope="module")
def full_pool() -> Any:
    return ensure_pools(count=1, kind="full")[0]


def test_router_lazy_onboarding_dvr_and_isolation(sqlite_api: Api, full_pool: Any) -> None:
    api = sqlite_api
    r = api.client.post("/v1/pools", headers=api.admin, json=pool_body(full_pool, "full"))
    assert r.status_code == 201, r.text
    assert "dvr" in r.json()["features"] and "network" in r.json()["services"]
    tenant, boss = api.new_tenant()
    other, other_boss = api.new_tenant()
    assert (
        api.client.get(f"/v1/tenants/{tenant['id']}/mappings", headers=boss).json()["items"] == []
    )

    created = api.client.post("/v1/routers", headers=boss, json={"name": "edge", "pool": "full"})
    assert created.status_code == 201, created.text
    router = created.json()
    assert router["pool"] == "full" and router["remote_id"] and router["is_distributed"] is True
    mapping = api.client.get(f"/v1/tenants/{tenant['id']}/mappings/full", headers=boss).json()
    assert mapping["state"] == "active"  # onboarded by the same call

    admin = connect(full_pool)
    remote = admin.network.get_router(router["remote_id"])
    assert remote.is_distributed is True and remote.project_id == mapping["remote_id"]

    listed = api.client.get("/v1/routers", headers=boss).json()
    assert [x["id"] for x in listed["items"]] == [router["id"]]
    assert listed["pools"] == {"full": "ok"}
    shown = api.client.get(f"/v1/routers/{router['id']}", headers=boss).json()
    assert shown["remote_id"] == router["remote_id"] and shown["status"] == "ACTIVE"
    # another tenant neither sees nor touches it
    assert_problem(
        api.client.get(f"/v1/routers/{router['id']}", headers=other_boss), 404, "not-found"
    )
    assert_problem(
        api.client.delete(f"/v1/routers/{router['id']}", headers=other_boss), 404, "not-found"
    )
    assert api.client.get("/v1/routers", headers=other_boss).json()["items"] == []

    assert api.client.delete(f"/v1/routers/{router['id']}", headers=boss).status_code == 204
    assert admin.network.find_router(router["remote_id"]) is None
    with api.sessions() as db:
        assert db.execute(text("SELECT count(*) FROM routing_record")).scalar_one() == 0
    # leave the pool clean: deprovision the tenant's project and user
    api.client.delete(f"/v1/tenants/{tenant['id']}/mappings/full", headers=boss)
    from tenantfusion.jobs.worker import run_pending

    run_pending(sessions=api.sessions, settings=api.client.app.state.settings)
    assert admin.identity.find_project(mapping["project_name"]) is None


def test_router_in_pool_without_network_is_422_and_leaves_nothing(
    sqlite_api: Api, keystone_pools: list[Any]
) -> None:
    api = sqlite_api
    # the full-pool fixture upgrades pool1 only; pool2 stays Keystone-only
    pool = keystone_pools[-1]
    r = api.client.post("/v1/pools", headers=api.admin, json=pool_body(pool, "idonly"))
    assert r.status_code == 201, r.text
    if "network" in r.json()["services"]:
        pytest.skip("this test bed's last pool is a full pool")
    _, boss = api.new_tenant()
    r = api.client.post("/v1/routers", headers=boss, json={"name": "x", "pool": "idonly"})
    body = assert_problem(r, 422, "invalid-input")
    assert body["field"] == "pool"
    with api.sessions() as db:
        assert db.execute(text("SELECT count(*) FROM routing_record")).scalar_one() == 0
    assert_problem(
        api.client.post("/v1/routers", headers=api.admin, json={"name": "x", "pool": "idonly"}),
        403,
        "forbidden",
    )
