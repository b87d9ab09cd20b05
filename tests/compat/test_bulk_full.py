"""Bulk creates through the facade live in the one world too (issue 12): a Neutron bulk
create and a Nova multiple create give every object a platform record (seen in ``/v1``),
reserve quota for all of them at once, and are refused whole past a platform limit,
leaving nothing behind in the pool or in the records."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tenantfusion.testbed import ensure_pools
from tests.compat.conftest import Tenant
from tests.conftest import TESTBED_ROOT, admin_conn

pytestmark = pytest.mark.pools

REGION = "east"
NETWORKS = f"/network/{REGION}/v2.0/networks"
SERVERS = f"/compute/{REGION}/v2.1/servers"


def _client(tenant: Tenant) -> httpx.Client:
    """The facade as a raw OpenStack client sees it (the tenant's token)."""
    return httpx.Client(
        base_url=tenant.facade.url, headers=tenant.headers(), timeout=180, trust_env=False
    )


def _set(tenant: Tenant, **limits: int) -> None:
    with tenant.facade.api() as c:
        r = c.put(f"/v1/tenants/{tenant.id}/quotas", headers=tenant.facade.admin, json=limits)
    assert r.status_code == 200, r.text


def _quotas(tenant: Tenant) -> Any:
    with tenant.facade.api() as c:
        r = c.get(f"/v1/tenants/{tenant.id}/quotas", headers=tenant.headers())
    assert r.status_code == 200, r.text
    return r.json()["resources"]


def _v1(tenant: Tenant, kind: str) -> dict[str, dict[str, Any]]:
    """The tenant's ``/v1`` items of ``kind`` in the region, by remote id."""
    with tenant.facade.api() as c:
        r = c.get(f"/v1/{kind}", headers=tenant.headers(), params={"pool": REGION})
    assert r.status_code == 200, r.text
    return {i["remote_id"]: i for i in r.json()["items"]}


def _server_body(tenant: Tenant, name: str, **extra: Any) -> dict[str, Any]:
    flavor = tenant.openstack(REGION, "flavor", "show", "m1.nano")
    image = tenant.openstack(REGION, "image", "show", "cirros-tiny")
    server = {"name": name, "flavorRef": flavor["id"], "imageRef": image["id"], **extra}
    return {"server": server}


def _nova_servers(c: httpx.Client) -> dict[str, str]:
    r = c.get(SERVERS)
    assert r.status_code == 200, r.text
    return {s["id"]: s["name"] for s in r.json()["servers"]}


def test_neutron_bulk_create_gets_one_record_per_object(tenant: Tenant) -> None:
    with _client(tenant) as c:
        # both item shapes Neutron takes: the object itself, or wrapped
        body = {"networks": [{"name": "bulk-a"}, {"network": {"name": "bulk-b"}}]}
        r = c.post(NETWORKS, json=body)
        assert r.status_code == 201, r.text
        made = r.json()["networks"]
        assert [n["name"] for n in made] == ["bulk-a", "bulk-b"]
        ids = [n["id"] for n in made]
        listed = _v1(tenant, "networks")
        assert set(ids) <= set(listed), listed
        east = admin_conn(ensure_pools(count=2, kind="full", root=TESTBED_ROOT)[0])
        for network in made:  # each marked with its own record, the platform's tag hidden
            record = listed[network["id"]]["id"]
            shown = c.get(f"{NETWORKS}/{network['id']}").json()["network"]
            assert shown["description"] == f"tenantfusion {record}", shown
            assert not [t for t in shown.get("tags", []) if t.startswith("tf-")], shown
            assert f"tf-rec-{record}" in east.network.get_network(network["id"]).tags

        subnets = [
            {"network_id": ids[0], "cidr": "10.61.1.0/24", "ip_version": 4, "name": "bs-a"},
            {"network_id": ids[1], "cidr": "10.61.2.0/24", "ip_version": 4, "name": "bs-b"},
        ]
        r = c.post(f"/network/{REGION}/v2.0/subnets", json={"subnets": subnets})
        assert r.status_code == 201, r.text
        subnet_ids = {s["id"] for s in r.json()["subnets"]}
        assert subnet_ids <= set(_v1(tenant, "subnets"))
    networks = _quotas(tenant)["networks"]
    assert networks["usage"] == len(_v1(tenant, "networks")) >= 2, networks
    assert networks["reserved"] == 0, networks


def test_neutron_bulk_create_past_quota_is_refused_whole(tenant: Tenant) -> None:
    _set(tenant, networks=1)
    with _client(tenant) as c:
        body = {"networks": [{"name": "over-a"}, {"name": "over-b"}]}
        r = c.post(NETWORKS, json=body)
        assert r.status_code == 403, r.text
        assert "networks" in r.json()["error"]["message"], r.text
        names = {n["name"] for n in c.get(NETWORKS).json()["networks"]}
        assert not names & {"over-a", "over-b"}, names  # nothing reached Neutron
        # one still fits
        r = c.post(NETWORKS, json={"networks": [{"name": "fits"}]})
        assert r.status_code == 201, r.text
        assert set(_v1(tenant, "networks")) == {r.json()["networks"][0]["id"]}
    networks = _quotas(tenant)["networks"]
    assert (networks["usage"], networks["reserved"]) == (1, 0), networks


def test_nova_multiple_create_gets_one_record_per_server(tenant: Tenant) -> None:
    flavor = tenant.openstack(REGION, "flavor", "show", "m1.nano")
    vcpus, ram = int(flavor["vcpus"]), int(flavor["ram"])
    _set(tenant, servers=2, vcpus=2 * vcpus)
    with _client(tenant) as c:
        body = _server_body(tenant, "multi", min_count=2, max_count=2)
        r = c.post(SERVERS, json=body)
        assert r.status_code == 202, r.text
        first = r.json()["server"]["id"]  # Nova answers the first server only
        nova = _nova_servers(c)
        assert len(nova) == 2 and first in nova, nova
        assert set(_v1(tenant, "servers")) == set(nova)
        used = _quotas(tenant)
        assert used["servers"]["usage"] == 2 and used["servers"]["reserved"] == 0, used
        assert used["vcpus"]["usage"] == 2 * vcpus and used["ram_mb"]["usage"] == 2 * ram, used

        # no room for more: refused whole before Nova sees it
        r = c.post(SERVERS, json=_server_body(tenant, "more", min_count=1, max_count=2))
        assert r.status_code == 403, r.text
        assert "servers" in r.json()["error"]["message"], r.text
        assert _nova_servers(c) == nova
    assert _quotas(tenant)["servers"]["reserved"] == 0


def _project_id(tenant: Tenant) -> str:
    with tenant.facade.api() as c:
        r = c.get(f"/v1/tenants/{tenant.id}/mappings", headers=tenant.facade.admin)
    assert r.status_code == 200, r.text
    return next(m["remote_id"] for m in r.json()["items"] if m["pool"] == REGION)


def test_nova_multiple_create_gives_back_what_nova_did_not_make(tenant: Tenant) -> None:
    with _client(tenant) as c:
        assert c.get(SERVERS).status_code == 200  # onboards the tenant in the pool
        east = ensure_pools(count=2, kind="full", root=TESTBED_ROOT)[0]
        # Nova's own quota lets one more server in: it makes 1 of max_count 3
        admin_conn(east).set_compute_quotas(_project_id(tenant), instances=1)
        body = _server_body(tenant, "resv", min_count=1, max_count=3, return_reservation_id=True)
        r = c.post(SERVERS, json=body)
        assert r.status_code == 202, r.text
        assert r.json()["reservation_id"].startswith("r-"), r.text
        nova = _nova_servers(c)
        assert len(nova) == 1, nova
        assert set(_v1(tenant, "servers")) == set(nova)
    servers = _quotas(tenant)["servers"]
    assert (servers["usage"], servers["reserved"]) == (1, 0), servers
