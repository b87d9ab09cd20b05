"""Leaving pools, on two real full OpenStack pools: deprovisioning or deleting a tenant
that still has objects is refused naming them; purging empties the tenant's project (a
server in ERROR included), removes its user and project, and survives a worker killed
between steps. Every claim is checked through each pool's own APIs as its admin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import openstack
import pytest
from sqlalchemy import text

from tenantfusion.faults import CRASH_EXIT_CODE
from tenantfusion.mapping.purge import DELETE_STEPS
from tenantfusion.mapping.steps import tenant_tag
from tests.conftest import ROOT, TEST_KEY, Api
from tests.platform.test_views import assert_problem
from tests.resources.test_servers_full import (  # noqa: F401  (fixtures)
    CIDRS,
    boot,
    drain_jobs,
    full_api,
    full_pools,
    project_objects,
    wait_for,
    world,
)

pytestmark = pytest.mark.pools

WORKER_LEASE_SECONDS = 3.0


def leftovers(conn: openstack.connection.Connection, mapping: dict[str, Any]) -> dict[str, Any]:
    """What the pool still holds of a tenant's project, seen by the pool's admin."""
    project_id = mapping["remote_id"]
    found: dict[str, Any] = {k: v for k, v in project_objects(conn, project_id).items() if v}
    # unfiltered: listing by project would make Neutron create the default group again
    groups = [sg.name for sg in conn.network.security_groups() if sg.project_id == project_id]
    if groups:
        found["security_groups"] = groups
    if conn.identity.find_project(project_id) is not None:
        found["project"] = project_id
    if conn.identity.find_user(mapping["project_name"]) is not None:
        found["user"] = mapping["project_name"]
    return found


def records(api: Api, where: str = "") -> int:
    with api.sessions() as db:
        return int(db.execute(text(f"SELECT count(*) FROM routing_record {where}")).scalar_one())


def test_leaving_pools_refused_then_purged(
    world: tuple[Api, dict[str, Any]],  # noqa: F811
) -> None:
    api, env = world
    admins = env["admins"]
    timings: dict[str, float] = {}
    started = time.monotonic()
    tenant, boss = api.new_tenant()
    base = f"/v1/tenants/{tenant['id']}"
    servers = {pool: boot(api, boss, pool=pool, name=f"web-{pool}") for pool in CIDRS}
    for server in servers.values():
        wait_for(api, boss, server["id"], "ACTIVE")
    fip = api.client.post("/v1/floating-ips", headers=boss, json={"server": servers["east"]["id"]})
    assert fip.status_code == 201, fip.text
    mappings = {
        m["pool"]: m for m in api.client.get(f"{base}/mappings", headers=boss).json()["items"]
    }
    timings["setup: 2 servers on default networks + 1 floating IP"] = time.monotonic() - started

    # refused while objects are left, naming them; nothing changes
    r = api.client.delete(f"{base}/mappings/west", headers=boss)
    assert_problem(r, 409, "objects-left")
    left = r.json()["objects"]
    assert set(left) == {"server", "network", "subnet", "router"}, left
    assert left["server"] == {"count": 1, "ids": [servers["west"]["id"]]}
    assert "1 server" in r.json()["detail"] and "purge" in r.json()["detail"]
    r = api.client.delete(base, headers=api.admin)
    assert_problem(r, 409, "objects-left")
    assert sorted(r.json()["mappings"]) == ["east", "west"]
    assert r.json()["objects"]["server"]["count"] == 2 and "floating_ip" in r.json()["objects"]
    r = api.client.delete("/v1/pools/east", headers=api.admin)
    assert_problem(r, 409, "objects-left")
    assert r.json()["mappings"] == [f"tenant {tenant['name']} (active)"]
    states = [m["state"] for m in api.client.get(f"{base}/mappings", headers=boss).json()["items"]]
    assert states == ["active", "active"]

    west_groups = leftovers(admins["west"], mappings["west"])["security_groups"]
    assert west_groups == ["default"]  # made by Neutron; the purge must remove it too

    # purge one pool; its server stuck in ERROR must go too
    admins["west"].compute.reset_server_state(servers["west"]["remote_id"], "error")
    t = time.monotonic()
    r = api.client.delete(f"{base}/mappings/west", headers=boss, params={"purge": "true"})
    assert r.status_code == 202, r.text
    drain_jobs(api, [r.json()["id"]], boss)
    timings["purge one pool (job)"] = time.monotonic() - t
    job = api.client.get(f"/v1/jobs/{r.json()['id']}", headers=boss).json()
    assert job["step"] == job["total_steps"] == len(DELETE_STEPS)
    assert leftovers(admins["west"], mappings["west"]) == {}
    west_id = mappings["west"]["pool_id"]
    assert records(api, f"WHERE pool_id = '{west_id}'") == 0 and records(api) > 0
    assert_problem(api.client.get(f"{base}/mappings/west", headers=boss), 404, "not-found")

    # re-onboarding makes one fresh project; none is left over in the pool's Keystone
    again = api.client.put(f"{base}/mappings/west", headers=boss)
    assert again.status_code == 201, again.text
    assert again.json()["remote_id"] != mappings["west"]["remote_id"]
    tagged = list(admins["west"].identity.projects(tags=tenant_tag(tenant["id"])))
    assert [p.id for p in tagged] == [again.json()["remote_id"]]
    mappings["west-again"] = again.json()

    # delete the tenant with everything, its worker killed right after the servers went
    t = time.monotonic()
    r = api.client.delete(base, headers=api.admin, params={"purge": "true"})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert api.client.get("/v1/servers", headers=boss).status_code == 401  # tokens revoked
    settings = api.client.app.state.settings
    crashed = subprocess.run(
        [sys.executable, "-m", "tests.mapping.purge_worker"]
        + [settings.database_url, TEST_KEY, str(WORKER_LEASE_SECONDS)],
        cwd=ROOT,
        env={**os.environ, "TENANTFUSION_CRASH_AT": "mapping.purge.delete_servers"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr[-2000:]
    assert "mapping.purge.delete_servers" in crashed.stderr
    job = api.client.get(f"/v1/jobs/{job_id}", headers=api.admin).json()
    assert job["state"] == "running" and job["step_name"] == "east: delete_servers", job
    east = project_objects(admins["east"], mappings["east"]["remote_id"])
    assert east["servers"] == east["floating_ips"] == 0 and east["networks"] == 1, east
    time.sleep(WORKER_LEASE_SECONDS + 0.5)  # the dead worker's leases expire
    drain_jobs(api, [job_id], api.admin)
    timings["tenant delete with purge, 2 pools, one kill + resume"] = time.monotonic() - t
    job = api.client.get(f"/v1/jobs/{job_id}", headers=api.admin).json()
    assert job["result"]["deleted"] is True and sorted(job["result"]["pools"]) == ["east", "west"]
    for name, mapping in mappings.items():
        assert leftovers(admins[name.split("-")[0]], mapping) == {}, name
    assert_problem(api.client.get(base, headers=api.admin), 404, "not-found")
    assert records(api) == 0
    with api.sessions() as db:
        assert db.execute(text("SELECT count(*) FROM mapping")).scalar_one() == 0
    timings["whole test"] = time.monotonic() - started
    print("\npurge timings (s): " + ", ".join(f"{k}: {v:.1f}" for k, v in timings.items()))
