"""Volumes on two real full pools (Cinder on its fake logging driver, Nova with the fake
virt driver): lazy onboarding, attach through Nova (read back from Nova's own
os-volume_attachments as the pool admin), 409 deleting an attached volume, 422 attaching
across pools, detach, a partial list while one pool's cinder-api is stopped, quotas
charged and pushed down to Cinder, and both pools left clean (a volume left behind is
deleted by the purge of the tenant's mapping)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openstack
import pytest
from sqlalchemy import text

from tenantfusion.resources import engine
from tenantfusion.testbed import PoolInfo, connect, ensure_pools, start_service, stop_service
from tests.conftest import TESTBED_ROOT, Api, _truncate, make_api, make_settings, pool_body
from tests.platform.test_views import assert_problem
from tests.resources.test_servers_full import boot, drain_jobs, wait_for

pytestmark = pytest.mark.pools

CIDRS = {"east": "10.78.1.0/24", "west": "10.78.2.0/24"}


@pytest.fixture(scope="module")
def full_pools() -> list[PoolInfo]:
    return ensure_pools(count=2, kind="full", root=TESTBED_ROOT)


@pytest.fixture
def world(
    sqlite_url: str, tmp_path: Path, full_pools: list[PoolInfo]
) -> Iterator[tuple[Api, dict[str, openstack.connection.Connection]]]:
    for api in make_api(make_settings(sqlite_url, tmp_path, pool_timeout_seconds=30.0)):
        admins = {}
        for name, info in zip(CIDRS, full_pools, strict=True):
            body = {**pool_body(info, name), "default_network_cidr": CIDRS[name]}
            r = api.client.post("/v1/pools", headers=api.admin, json=body)
            assert r.status_code == 201, r.text
            assert "block-storage" in r.json()["services"]
            admins[name] = connect(info)
        yield api, admins
    _truncate(sqlite_url)


def wait_volume(api: Api, headers: dict[str, str], volume_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = api.client.get(f"/v1/volumes/{volume_id}", headers=headers).json()
        if body["status"] == status:
            return dict(body)
        assert "error" not in body["status"], body
        time.sleep(1)
    raise AssertionError(f"volume {volume_id} not {status}: {body}")


def new_volume(api: Api, headers: dict[str, str], *, pool: str, name: str, size: int = 1) -> Any:
    r = api.client.post(
        "/v1/volumes", headers=headers, json={"name": name, "pool": pool, "size_gb": size}
    )
    assert r.status_code == 201, r.text
    return r.json()


def attached_in_nova(admin: openstack.connection.Connection, server_remote: str) -> list[str]:
    """What Nova itself says is attached to the server (os-volume_attachments)."""
    return [a.volume_id for a in admin.compute.volume_attachments(server_remote)]


def wait_gone(admin: openstack.connection.Connection, volume_remote: str) -> None:
    deadline = time.monotonic() + 60
    while admin.block_storage.find_volume(volume_remote, all_projects=True) is not None:
        assert time.monotonic() < deadline, f"Cinder still has volume {volume_remote}"
        time.sleep(1)


def leave(api: Api, tenant_id: str, headers: dict[str, str], admins: dict[str, Any]) -> None:
    """Deprovision the tenant's mappings (purging the default networks); their projects are
    gone from the pools."""
    mappings = api.client.get(f"/v1/tenants/{tenant_id}/mappings", headers=headers).json()
    jobs = []
    for m in mappings["items"]:
        r = api.client.delete(
            f"/v1/tenants/{tenant_id}/mappings/{m['pool']}?purge=true", headers=headers
        )
        assert r.status_code == 202, r.text
        jobs.append(r.json()["id"])
    drain_jobs(api, jobs, headers)
    for m in mappings["items"]:
        assert admins[m["pool"]].identity.find_project(m["project_name"]) is None


def test_volume_create_attach_detach_delete_on_real_cinder_and_nova(
    world: tuple[Api, dict[str, openstack.connection.Connection]],
    full_pools: list[PoolInfo],
) -> None:
    api, admins = world
    tenant, boss = api.new_tenant()
    _, other_boss = api.new_tenant()

    volume = new_volume(api, boss, pool="east", name="data", size=2)
    assert volume["pool"] == "east" and volume["remote_id"] and volume["size_gb"] == 2
    mapping = api.client.get(f"/v1/tenants/{tenant['id']}/mappings/east", headers=boss).json()
    assert mapping["state"] == "active"  # onboarded by the same call
    remote = admins["east"].block_storage.get_volume(volume["remote_id"])
    assert remote.project_id == mapping["remote_id"] and remote.size == 2
    assert remote.metadata["tf_record"] == f"tenantfusion {volume['id']}"
    wait_volume(api, boss, volume["id"], "available")
    quotas = api.client.get(f"/v1/tenants/{tenant['id']}/quotas", headers=boss).json()
    assert quotas["resources"]["volumes"]["usage"] == 1
    assert quotas["resources"]["volume_gb"]["usage"] == 2
    # another tenant neither sees nor touches it
    assert_problem(
        api.client.get(f"/v1/volumes/{volume['id']}", headers=other_boss), 404, "not-found"
    )
    assert api.client.get("/v1/volumes", headers=other_boss).json()["items"] == []

    server = boot(api, boss, pool="east", name="db-1")
    wait_for(api, boss, server["id"], "ACTIVE")
    far = new_volume(api, boss, pool="west", name="far")
    wait_volume(api, boss, far["id"], "available")

    # a volume in another pool than the server: 422 naming both pools, nothing attached
    r = api.client.post(
        f"/v1/volumes/{far['id']}/action",
        headers=boss,
        json={"action": "attach", "server": server["id"]},
    )
    body = assert_problem(r, 422, "invalid-input")
    assert "east" in body["detail"] and "west" in body["detail"]
    assert body["field"] == "server" and body["server_pool"] == "east" and body["pool"] == "west"
    assert attached_in_nova(admins["east"], server["remote_id"]) == []

    r = api.client.post(
        f"/v1/volumes/{volume['id']}/action",
        headers=boss,
        json={"action": "attach", "server": server["id"]},
    )
    assert r.status_code == 200, r.text
    in_use = wait_volume(api, boss, volume["id"], "in-use")
    assert in_use["server"] == server["id"] and in_use["device"]
    assert attached_in_nova(admins["east"], server["remote_id"]) == [volume["remote_id"]]

    # deleting an attached volume: 409, and it stays attached and routed
    assert_problem(
        api.client.delete(f"/v1/volumes/{volume['id']}", headers=boss), 409, "pool-conflict"
    )
    shown = api.client.get(f"/v1/volumes/{volume['id']}", headers=boss).json()
    assert shown["state"] == "active" and shown["server"] == server["id"]
    assert attached_in_nova(admins["east"], server["remote_id"]) == [volume["remote_id"]]

    r = api.client.post(
        f"/v1/volumes/{volume['id']}/action", headers=boss, json={"action": "detach"}
    )
    assert r.status_code == 200, r.text
    detached = wait_volume(api, boss, volume["id"], "available")
    assert detached["server"] is None
    assert attached_in_nova(admins["east"], server["remote_id"]) == []
    assert_problem(
        api.client.post(
            f"/v1/volumes/{volume['id']}/action", headers=boss, json={"action": "detach"}
        ),
        409,
        "conflict",
    )

    # the merged list pages across both pools
    seen, marker = [], None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"marker": marker} if marker else {})}
        page = api.client.get("/v1/volumes", headers=boss, params=params).json()
        assert set(page["pools"].values()) == {"ok"}
        seen += [v["id"] for v in page["items"]]
        marker = page["next_marker"]
        if marker is None:
            break
    assert seen == [volume["id"], far["id"]]

    # west's cinder-api stopped (this bed's process, by its pid file): a partial list
    # that names the pool, never an error
    assert stop_service(full_pools[1], "cinder", root=TESTBED_ROOT)
    try:
        r = api.client.get("/v1/volumes", headers=boss)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["pools"]["east"] == "ok" and page["pools"]["west"] != "ok"
        assert [v["id"] for v in page["items"]] == [volume["id"]]
    finally:
        start_service(full_pools[1], "cinder", root=TESTBED_ROOT)

    for made, pool in ((volume, "east"), (far, "west")):
        r = api.client.delete(f"/v1/volumes/{made['id']}", headers=boss)
        assert r.status_code == 204, r.text
        wait_gone(admins[pool], made["remote_id"])
    quotas = api.client.get(f"/v1/tenants/{tenant['id']}/quotas", headers=boss).json()
    assert quotas["resources"]["volumes"]["usage"] == 0
    assert quotas["resources"]["volume_gb"]["usage"] == 0
    r = api.client.delete(f"/v1/servers/{server['id']}", headers=boss)
    assert r.status_code == 202, r.text
    drain_jobs(api, [r.json()["id"]], boss)
    leave(api, str(tenant["id"]), boss, admins)
    with api.sessions() as db:
        assert db.execute(text("SELECT count(*) FROM routing_record")).scalar_one() == 0


def test_volume_quotas_are_charged_and_pushed_to_cinder(
    world: tuple[Api, dict[str, openstack.connection.Connection]],
) -> None:
    api, admins = world
    tenant, boss = api.new_tenant()
    r = api.client.put(
        f"/v1/tenants/{tenant['id']}/quotas",
        headers=api.admin,
        json={"volumes": 2, "volume_gb": 3},
    )
    assert r.status_code == 200, r.text
    first = new_volume(api, boss, pool="east", name="a", size=2)
    over = api.client.post(
        "/v1/volumes", headers=boss, json={"name": "b", "pool": "east", "size_gb": 2}
    )
    body = assert_problem(over, 409, "quota-exceeded")
    assert body["resource"] == "volume_gb" and body["limit"] == 3 and body["usage"] == 2
    with api.sessions() as db:
        assert db.execute(text("SELECT count(*) FROM routing_record")).scalar_one() == 1

    # onboarding pushed the limits down: the tenant is held to them in Cinder itself
    mapping = api.client.get(f"/v1/tenants/{tenant['id']}/mappings/east", headers=boss).json()
    cinder = admins["east"].block_storage.get_quota_set(mapping["remote_id"])
    assert (cinder.volumes, cinder.gigabytes) == (2, 3)

    # what a retried create (same Idempotency-Key) or reconcile looks the volume up by:
    # Cinder's metadata filter on the record id, as the tenant
    with api.sessions() as db:
        where = engine.routed(
            db=db,
            tenant_id=str(tenant["id"]),
            kind="volume",
            record_id=first["id"],
            settings=api.client.app.state.settings,
        ).where
    found = where.driver.find_by_record(session=where.session, kind="volume", record_id=first["id"])
    assert found is not None and found.remote_id == first["remote_id"]
    assert (
        where.driver.find_by_record(session=where.session, kind="volume", record_id="nope") is None
    )

    # leaving the pool with the volume still there: the purge deletes it in Cinder
    wait_volume(api, boss, first["id"], "available")
    leave(api, str(tenant["id"]), boss, admins)
    wait_gone(admins["east"], first["remote_id"])
