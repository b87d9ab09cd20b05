"""Platform quotas hold through the facade as through ``/v1`` (issue 12's "quotas apply to
both"; issue 13's limits): an unmodified `openstack` CLI's server create reserves the
flavor's vCPUs and RAM, its volume create (Cinder through the facade) the volume's size,
and a create past a platform limit is refused before it reaches the pool."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.compat.conftest import Tenant

pytestmark = pytest.mark.pools

REGION = "east"
BOOT = ("--flavor", "m1.nano", "--image", "cirros-tiny", "--wait")


def _quotas(tenant: Tenant) -> Any:
    with tenant.facade.api() as c:
        r = c.get(f"/v1/tenants/{tenant.id}/quotas", headers=tenant.headers())
    assert r.status_code == 200, r.text
    return r.json()["resources"]


def _set(tenant: Tenant, **limits: int) -> None:
    with tenant.facade.api() as c:
        r = c.put(f"/v1/tenants/{tenant.id}/quotas", headers=tenant.facade.admin, json=limits)
    assert r.status_code == 200, r.text


def _v1_volumes(tenant: Tenant) -> set[str]:
    with tenant.facade.api() as c:
        r = c.get("/v1/volumes", headers=tenant.headers(), params={"pool": REGION})
    assert r.status_code == 200, r.text
    return {i["remote_id"] for i in r.json()["items"]}


def test_facade_creates_count_like_v1_creates(tenant: Tenant) -> None:
    flavor = tenant.openstack(REGION, "flavor", "show", "m1.nano")
    vcpus, ram = int(flavor["vcpus"]), int(flavor["ram"])
    _set(tenant, vcpus=vcpus, volume_gb=1)

    server = tenant.openstack(REGION, "server", "create", *BOOT, "vm-q1")
    used = _quotas(tenant)
    assert used["servers"]["usage"] == 1
    assert used["vcpus"]["usage"] == vcpus and used["ram_mb"]["usage"] == ram, used
    # no room for a second one: refused by the platform, nothing reaches the pool
    refused = tenant.openstack(REGION, "server", "create", *BOOT, "vm-q2", check=False)
    assert refused.returncode != 0 and "vcpus" in refused.stderr, refused.stderr
    assert [s["ID"] for s in tenant.openstack(REGION, "server", "list")] == [server["id"]]

    volume = tenant.openstack(REGION, "volume", "create", "--size", "1", "vol-q1")
    assert _v1_volumes(tenant) == {volume["id"]}  # one world: a platform volume too
    assert _quotas(tenant)["volume_gb"]["usage"] + _quotas(tenant)["volume_gb"]["reserved"] == 1
    refused = tenant.openstack(REGION, "volume", "create", "--size", "1", "vol-q2", check=False)
    assert refused.returncode != 0 and "volume_gb" in refused.stderr, refused.stderr

    # a delete through the facade gives the room back
    deadline = time.monotonic() + 120
    while tenant.openstack(REGION, "volume", "show", volume["id"])["status"] != "available":
        assert time.monotonic() < deadline, "the volume never became available"
        time.sleep(1)
    tenant.run(REGION, "volume", "delete", volume["id"])
    assert _v1_volumes(tenant) == set()
    again = tenant.openstack(REGION, "volume", "create", "--size", "1", "vol-q3")
    assert _v1_volumes(tenant) == {again["id"]}
