"""python-openstackclient, unmodified, against a served tenantfusion: the tenant has no
project in either pool when it starts; every object it makes through the facade is also
a platform object (``GET /v1/...``), and deletes through the facade settle there too."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.compat.conftest import Tenant

pytestmark = pytest.mark.pools


def v1(tenant: Tenant, path: str, **params: str) -> list[dict[str, Any]]:
    with tenant.facade.api() as c:
        r = c.get(f"/v1/{path}", headers=tenant.headers(), params=params)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def wait_gone(tenant: Tenant, path: str, remote_id: str) -> None:
    deadline = time.monotonic() + 120
    while any(i["remote_id"] == remote_id for i in v1(tenant, path)):
        assert time.monotonic() < deadline, f"{path} {remote_id} still listed in /v1"
        time.sleep(1)


@pytest.mark.parametrize("region", ["east", "west"])
def test_server_lifecycle_in_a_new_region(tenant: Tenant, region: str) -> None:
    boot = ("--flavor", "m1.nano", "--image", "cirros-tiny", "--wait")
    made = tenant.openstack(region, "server", "create", *boot, f"vm-{region}")
    assert made["status"] == "ACTIVE" and made["name"] == f"vm-{region}"
    listed = tenant.openstack(region, "server", "list")
    assert [s["ID"] for s in listed] == [made["id"]]
    shown = tenant.openstack(region, "server", "show", made["id"])
    assert shown["id"] == made["id"] and shown["addresses"]  # on the tenant's default network
    assert "tfp_" not in str(shown)  # the platform token never shows up
    # one world: the server is a platform object in the pool named by the region
    (record,) = v1(tenant, "servers", pool=region)
    assert record["remote_id"] == made["id"] and record["status"] == "ACTIVE"
    # the other region is untouched by this one
    other = "west" if region == "east" else "east"
    assert tenant.openstack(other, "server", "list") == []
    tenant.run(region, "server", "delete", "--wait", made["id"])
    assert tenant.openstack(region, "server", "list") == []
    wait_gone(tenant, "servers", made["id"])


def test_networks_routers_floating_ips_images_flavors(tenant: Tenant) -> None:
    region = "east"
    net = tenant.openstack(region, "network", "create", "n1")
    sub = tenant.openstack(
        region, "subnet", "create", "--network", "n1", "--subnet-range", "10.99.0.0/24", "s1"
    )
    router = tenant.openstack(region, "router", "create", "r1")
    tenant.run(region, "router", "add", "subnet", "r1", "s1")
    assert sub["network_id"] == net["id"]
    (external,) = tenant.openstack(region, "network", "list", "--external")
    boot = ("--flavor", "m1.nano", "--image", "cirros-tiny", "--wait")
    # on the tenant's default network, whose router reaches the external one
    server = tenant.openstack(region, "server", "create", *boot, "vm-fip")
    fip = tenant.openstack(region, "floating", "ip", "create", external["ID"])
    tenant.run(region, "server", "add", "floating", "ip", server["id"], fip["floating_ip_address"])
    shown = tenant.openstack(region, "floating", "ip", "show", fip["id"])
    assert shown["port_id"]
    assert {i["Name"] for i in tenant.openstack(region, "flavor", "list")} >= {"m1.nano"}
    assert "cirros-tiny" in {i["Name"] for i in tenant.openstack(region, "image", "list")}

    # one world: everything made through the facade is routed in /v1
    assert {i["remote_id"] for i in v1(tenant, "networks", pool=region)} >= {net["id"]}
    assert sub["id"] in {i["remote_id"] for i in v1(tenant, "subnets", pool=region)}
    assert router["id"] in {i["remote_id"] for i in v1(tenant, "routers", pool=region)}
    (routed_fip,) = v1(tenant, "floating-ips", pool=region)
    assert routed_fip["remote_id"] == fip["id"] and routed_fip["server"]
    assert server["id"] in {i["remote_id"] for i in v1(tenant, "servers", pool=region)}

    # deletes through the facade drop the records
    tenant.run(region, "floating", "ip", "delete", fip["id"])
    tenant.run(region, "router", "remove", "subnet", "r1", "s1")
    tenant.run(region, "router", "delete", "r1")
    tenant.run(region, "subnet", "delete", "s1")
    tenant.run(region, "network", "delete", "n1")
    tenant.run(region, "server", "delete", "--wait", server["id"])
    assert v1(tenant, "floating-ips") == []
    assert net["id"] not in {i["remote_id"] for i in v1(tenant, "networks")}
    assert router["id"] not in {i["remote_id"] for i in v1(tenant, "routers")}
    wait_gone(tenant, "servers", server["id"])


def test_refusals_in_openstack_shape(tenant: Tenant) -> None:
    hyp = tenant.openstack("east", "hypervisor", "list", check=False)
    assert hyp.returncode != 0 and "403" in hyp.stderr
    wide = tenant.openstack("east", "server", "list", "--all-projects", check=False)
    assert wide.returncode != 0 and "403" in wide.stderr
    nowhere = tenant.openstack("nowhere", "server", "list", check=False)
    assert nowhere.returncode != 0 and "nowhere" in nowhere.stderr
    assert "Traceback" not in hyp.stderr + wide.stderr + nowhere.stderr
