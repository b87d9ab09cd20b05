"""Console parity on a real full OpenStack pool, in a real Chromium: a tenant admin onboards,
builds a network, subnet and router (interface, gateway), boots a server on it, stops and
starts it from its page, allocates, associates, moves and releases a floating IP, tears it
all down and leaves the pool through the confirmation page. The pool's own Neutron and Nova
(as its admin) witness every step; axe-core checks each page as it is used."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tenantfusion.testbed import PoolInfo, connect
from tests.conftest import pool_body
from tests.web.axe import assert_accessible
from tests.web.live_server import LiveServer
from tests.web.test_browser import flash, log_in
from tests.web.test_browser_server import SLOW_MS, full_pool, wait_job

pytestmark = [pytest.mark.browser, pytest.mark.pools]
Shot = Callable[[Page, str], None]
FLASH_MS = 60_000
__all__ = ["full_pool"]  # the module-scoped fixture, shared


def nav(page: Page, name: str) -> None:
    page.locator("header nav").get_by_role("link", name=name, exact=True).click()


def _ok(page: Page, text: str) -> None:
    expect(flash(page)).to_contain_text(text, timeout=FLASH_MS)
    expect(flash(page)).to_have_attribute("role", "status")


@pytest.fixture
def acme(site: LiveServer, full_pool: PoolInfo) -> Iterator[dict[str, Any]]:
    """Tenant acme on pool alpha; whatever a failed run leaves there is purged after."""
    site.call("POST", "/v1/pools", site.admin, json=pool_body(full_pool, "alpha"))
    tenant = site.call(
        "POST",
        "/v1/tenants",
        site.admin,
        json={"name": "acme", "admin": {"username": "boss", "password": "boss-password"}},
    )
    yield tenant
    url = f"/v1/tenants/{tenant['id']}/mappings/alpha"
    r = site.api.delete(url, params={"purge": "true"}, headers=site.admin)
    if r.status_code == 202:
        wait_job(site, site.admin, r.json()["id"])


def test_tenant_runs_networks_servers_and_floating_ips_from_the_console(
    page: Page,
    site: LiveServer,
    acme: dict[str, Any],
    full_pool: PoolInfo,
    shot: Shot,
    dialogs: list[str],
) -> None:
    tenant = acme
    boss = site.token("acme", "boss", "boss-password")
    cloud: Any = connect(full_pool)  # the pool's admin (openstacksdk): the witness

    # onboarding from the overview
    log_in(page, "acme", "boss", "boss-password")
    page.locator("#onboard").get_by_label("Pool", exact=True).select_option("alpha")
    page.locator("#onboard").get_by_role("button", name="Onboard").click()
    _ok(page, "Onboarded into pool alpha: project ")
    (mapping,) = site.call("GET", f"/v1/tenants/{tenant['id']}/mappings", boss)["items"]
    project = mapping["remote_id"]
    assert cloud.identity.get_project(project).name == mapping["project_name"]
    assert_accessible(page)
    shot(page, "onboarded")

    # a network and a subnet
    nav(page, "Networks")
    form = page.locator("#create-network")
    form.get_by_label("Name", exact=True).fill("net-a")
    form.get_by_label("Pool", exact=True).select_option("alpha")
    form.get_by_role("button", name="Create network").click()
    _ok(page, "Network net-a created in pool alpha")
    nav(page, "Subnets")
    form = page.locator("#create-subnet")
    form.get_by_label("Name", exact=True).fill("sub-a")
    form.get_by_label("Network").select_option(label="net-a (alpha)")
    form.get_by_label("CIDR").fill("10.81.1.0/24")
    form.get_by_label("DNS servers (optional, comma-separated)").fill("10.81.1.53, 10.81.1.54")
    shot(page, "subnet-form")
    form.get_by_role("button", name="Create subnet").click()
    _ok(page, "Subnet sub-a created in pool alpha")
    row = page.locator('tr[data-subnet="sub-a"]')
    expect(row).to_contain_text("10.81.1.0/24")
    expect(row).to_contain_text("net-a")
    subnet = cloud.network.get_subnet(row.get_attribute("data-remote-id"))
    assert subnet.project_id == project and subnet.cidr == "10.81.1.0/24"
    assert subnet.dns_nameservers == ["10.81.1.53", "10.81.1.54"]
    assert_accessible(page)
    shot(page, "subnet-created")

    # a router: gateway set, the subnet attached (checked in Neutron each time)
    nav(page, "Routers")
    form = page.locator("#create-router")
    form.get_by_label("Name", exact=True).fill("r1")
    form.get_by_label("Pool", exact=True).select_option("alpha")
    form.get_by_role("button", name="Create router").click()
    _ok(page, "Router r1 created in pool alpha")
    row = page.locator('tr[data-router="r1"]')
    remote_router = row.get_attribute("data-remote-id") or "-"
    expect(row.get_by_test_id("gateway")).to_have_text("none")
    row.get_by_role("button", name="Set gateway of r1").click()
    _ok(page, "Set gateway: router r1 in pool alpha")
    expect(row.get_by_test_id("gateway")).to_have_text("external network")
    assert cloud.network.get_router(remote_router).external_gateway_info
    row.get_by_label("Subnet to attach to r1").select_option(label="sub-a (10.81.1.0/24)")
    row.get_by_role("button", name="Add interface to r1").click()
    _ok(page, "Add interface: router r1 in pool alpha")
    expect(row.locator('li[data-interface="sub-a"]')).to_be_visible()
    attached = {
        ip["subnet_id"] for p in cloud.network.ports(device_id=remote_router) for ip in p.fixed_ips
    }
    assert subnet.id in attached
    assert_accessible(page)
    shot(page, "router-attached")

    # a server on net-a, followed on its own page
    nav(page, "Servers")
    form = page.locator("#create-server")
    form.get_by_label("Name", exact=True).fill("web-1")
    form.get_by_label("Pool", exact=True).select_option("alpha")
    form.get_by_label("Flavor").select_option("m1.nano")
    form.get_by_label("Image").select_option("cirros-tiny")
    form.get_by_label("Network").select_option(label="net-a (alpha)")
    form.get_by_role("button", name="Create server").click()
    _ok(page, "Server web-1 created in pool alpha")
    page.locator('tr[data-server="web-1"]').get_by_role("link", name="web-1").click()
    expect(page.get_by_role("heading", name="Server web-1")).to_be_visible()
    status = page.get_by_test_id("server-status")
    expect(status).to_have_text("ACTIVE", timeout=SLOW_MS)
    expect(page.get_by_test_id("power-state")).to_have_text("RUNNING", timeout=SLOW_MS)
    expect(page.get_by_test_id("addresses")).to_contain_text("net-a: 10.81.1.")
    expect(page.locator("#server")).to_contain_text("m1.nano")
    expect(page.locator("#server")).to_contain_text("cirros-tiny")
    expect(page.locator("#server")).to_contain_text("alpha")
    server_url = page.url
    (server,) = site.call("GET", "/v1/servers", boss)["items"]
    assert cloud.compute.get_server(server["remote_id"]).project_id == project
    assert_accessible(page)
    shot(page, "server-active")

    # stop and start from the server's page; Nova agrees
    page.locator("#server-actions").get_by_role("button", name="Stop").click()
    _ok(page, "Stop: server web-1 in pool alpha")
    assert page.url == server_url
    expect(status).to_have_text("SHUTOFF", timeout=SLOW_MS)
    expect(page.get_by_test_id("power-state")).to_have_text("SHUTDOWN")
    assert cloud.compute.get_server(server["remote_id"]).status == "SHUTOFF"
    shot(page, "server-stopped")
    page.locator("#server-actions").get_by_role("button", name="Start").click()
    _ok(page, "Start: server web-1 in pool alpha")
    expect(status).to_have_text("ACTIVE", timeout=SLOW_MS)
    assert cloud.compute.get_server(server["remote_id"]).status == "ACTIVE"

    # a floating IP allocated for it and associated, from its page
    page.locator("#allocate-for-server").get_by_role(
        "button", name="Allocate and associate"
    ).click()
    _ok(page, "Floating IP ")
    fip_row = page.locator("#server-floating-ips tr[data-fip]")
    expect(fip_row).to_have_count(1)
    address = fip_row.get_attribute("data-fip") or "-"
    remote_fip = next(cloud.network.ips(floating_ip_address=address))
    assert remote_fip.project_id == project and remote_fip.port_id
    assert remote_fip.fixed_ip_address.startswith("10.81.1.")
    assert_accessible(page)
    shot(page, "fip-associated")
    fip_row.get_by_role("button", name=f"Disassociate {address}").click()
    _ok(page, "Disassociate: floating IP ")
    expect(page.locator(f'#free-ips li[data-fip="{address}"]')).to_be_visible()
    assert cloud.network.get_ip(remote_fip.id).port_id is None
    shot(page, "fip-free")

    # ... associated again and released from the floating IPs page
    nav(page, "Floating IPs")
    row = page.locator(f'tr[data-fip="{address}"]')
    row.get_by_label(f"Server for {address}").select_option(label="web-1")
    row.get_by_role("button", name=f"Associate {address}").click()
    _ok(page, "Associate: floating IP ")
    expect(row.get_by_test_id("fip-server")).to_have_text("web-1")
    assert cloud.network.get_ip(remote_fip.id).port_id
    assert_accessible(page)
    shot(page, "fip-page")
    row.get_by_role("button", name=f"Disassociate {address}").click()
    _ok(page, "Disassociate: floating IP ")
    row.get_by_role("button", name=f"Release {address}").click()
    _ok(page, f"Deleted floating IP {address} in pool alpha")
    assert dialogs[-1] == f"Release floating IP {address} in pool alpha?"
    assert cloud.network.find_ip(remote_fip.id) is None

    # leaving is refused while objects are left; the confirmation page names them
    nav(page, "Overview")
    page.locator('tr[data-mapping="alpha"]').get_by_role("link", name="Leave pool").click()
    expect(page.locator("#objects-left")).to_be_visible()
    expect(page.locator("#leave")).to_contain_text("1 server")
    expect(page.locator("#leave")).to_contain_text("1 router")
    assert_accessible(page)
    shot(page, "leave-confirm")

    # tear down by hand through the pages: server, interface, gateway, router, subnet, net
    page.goto(server_url)
    page.locator("#server-actions").get_by_role("button", name="Delete server web-1").click()
    _ok(page, "Deleting server web-1 in pool alpha")
    found = re.search(r"\(job ([0-9a-f-]+)\)", flash(page).inner_text())
    assert found
    wait_job(site, boss, found.group(1))
    nav(page, "Routers")
    row = page.locator('tr[data-router="r1"]')
    row.get_by_role("button", name="Remove interface sub-a from r1").click()
    _ok(page, "Remove interface: router r1 in pool alpha")
    expect(row.locator("li[data-interface]")).to_have_count(0)
    row.get_by_role("button", name="Clear gateway of r1").click()
    _ok(page, "Clear gateway: router r1 in pool alpha")
    assert not cloud.network.get_router(remote_router).external_gateway_info
    row.get_by_role("button", name="Delete router r1").click()
    _ok(page, "Deleted router r1 in pool alpha")
    nav(page, "Subnets")
    page.locator('tr[data-subnet="sub-a"]').get_by_role("button", name="Delete subnet").click()
    _ok(page, "Deleted subnet sub-a in pool alpha")
    assert cloud.network.find_subnet(subnet.id) is None
    nav(page, "Networks")
    page.locator('tr[data-network="net-a"]').get_by_role("button", name="Delete").click()
    _ok(page, "Deleted network net-a in pool alpha")

    # now leaving needs no purge; the job deletes the project
    nav(page, "Overview")
    page.locator('tr[data-mapping="alpha"]').get_by_role("link", name="Leave pool").click()
    expect(page.locator("#leave")).to_contain_text("no objects left")
    page.get_by_role("button", name="Leave pool alpha").click()
    _ok(page, "Leaving pool alpha")
    expect(page.get_by_test_id("job-state")).to_have_text("succeeded", timeout=SLOW_MS)
    assert_accessible(page)
    shot(page, "left-pool")
    assert cloud.identity.find_project(project) is None
