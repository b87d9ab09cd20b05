"""The console's main flow in a real Chromium on one full OpenStack pool: a tenant boots a
server in a chosen pool, watches it go ACTIVE on the page's live status, deletes it, and
the pool's own Nova confirms it is gone."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tenantfusion.testbed import PoolInfo, connect, ensure_pools
from tests.conftest import TESTBED_ROOT, pool_body
from tests.web.live_server import LiveServer
from tests.web.test_browser import flash, log_in

pytestmark = [pytest.mark.browser, pytest.mark.pools]
Shot = Callable[[Page, str], None]
SLOW_MS = 120_000


@pytest.fixture(scope="module")
def full_pool() -> PoolInfo:
    (pool,) = ensure_pools(count=1, kind="full", root=TESTBED_ROOT)
    return pool


def wait_job(site: LiveServer, headers: dict[str, str], job_id: str) -> None:
    deadline = time.monotonic() + SLOW_MS / 1000
    while (state := site.call("GET", f"/v1/jobs/{job_id}", headers)["state"]) != "succeeded":
        assert state != "failed" and time.monotonic() < deadline, state
        time.sleep(0.5)


def leave_pool(site: LiveServer, boss: dict[str, str], tenant_id: str, pool: str) -> None:
    """Remove what the first server left (default network, subnet, router), then the
    tenant's project and user in the pool."""
    for router in site.call("GET", "/v1/routers", boss)["items"]:
        for subnet in router["interfaces"]:
            body = {"action": "remove_interface", "subnet": subnet}
            site.call("POST", f"/v1/routers/{router['id']}/action", boss, json=body)
        site.call("DELETE", f"/v1/routers/{router['id']}", boss)
    for kind in ("subnets", "networks"):
        for item in site.call("GET", f"/v1/{kind}", boss)["items"]:
            site.call("DELETE", f"/v1/{kind}/{item['id']}", boss)
    job = site.call("DELETE", f"/v1/tenants/{tenant_id}/mappings/{pool}", boss)
    wait_job(site, boss, job["id"])


def test_tenant_boots_watches_and_deletes_a_server(
    page: Page, site: LiveServer, full_pool: PoolInfo, shot: Shot, dialogs: list[str]
) -> None:
    body = {**pool_body(full_pool, "alpha"), "default_network_cidr": "10.78.1.0/24"}
    site.call("POST", "/v1/pools", site.admin, json=body)
    tenant = site.call(
        "POST",
        "/v1/tenants",
        site.admin,
        json={"name": "acme", "admin": {"username": "boss", "password": "boss-password"}},
    )
    boss = site.token("acme", "boss", "boss-password")
    nova: Any = connect(full_pool)  # the pool's admin (openstacksdk)

    log_in(page, "acme", "boss", "boss-password")
    page.get_by_role("link", name="Servers").click()
    form = page.locator("#create-server")
    form.get_by_label("Name", exact=True).fill("web-1")
    form.get_by_label("Pool").select_option("alpha")
    form.get_by_label("Flavor").select_option("m1.nano")
    form.get_by_label("Image").select_option("cirros-tiny")
    shot(page, "form-filled")
    form.get_by_role("button", name="Create server").click()
    expect(flash(page)).to_contain_text(
        "Server web-1 created in pool alpha (placement: requested), status ", timeout=SLOW_MS
    )
    row = page.locator('tr[data-server="web-1"]')
    shot(page, "server-created")

    # the page follows the status by itself: no reload, the marker survives
    page.evaluate("window.stillTheSamePage = true")
    expect(row.locator(".server-status")).to_have_text("ACTIVE", timeout=SLOW_MS)
    assert page.evaluate("window.stillTheSamePage") is True
    expect(row).to_contain_text("10.78.1.")
    shot(page, "server-active")

    (server,) = site.call("GET", "/v1/servers", boss)["items"]
    assert nova.compute.get_server(server["remote_id"]).status == "ACTIVE"
    (mapping,) = site.call("GET", f"/v1/tenants/{tenant['id']}/mappings", boss)["items"]
    assert nova.compute.get_server(server["remote_id"]).project_id == mapping["remote_id"]

    row.get_by_role("button", name="Delete").click()
    expect(flash(page)).to_contain_text("Deleting server web-1 in pool alpha")
    assert dialogs == ["Delete server web-1 in pool alpha?"]
    found = re.search(r"\(job ([0-9a-f-]+)\)", flash(page).inner_text())
    assert found
    expect(page.locator('tr[data-server="web-1"]')).to_have_count(0)
    job_state = page.locator(f'tr[data-job="{found.group(1)}"] .status')
    page.evaluate("window.stillTheSamePage = true")
    expect(job_state).to_have_text("succeeded", timeout=SLOW_MS)
    assert page.evaluate("window.stillTheSamePage") is True
    shot(page, "server-deleted")

    # the pool's own Nova, as its admin: the server is really gone
    assert nova.compute.find_server(server["remote_id"], ignore_missing=True) is None
    assert list(nova.compute.servers(all_projects=True, project_id=mapping["remote_id"])) == []

    # a network of its own, made and removed through the Networks page
    page.get_by_role("link", name="Networks").click()
    expect(page.locator("tr[data-network]")).to_have_count(1)  # the pool's default network
    form = page.locator("#create-network")
    form.get_by_label("Name", exact=True).fill("net-1")
    form.get_by_label("Pool").select_option("alpha")
    form.get_by_role("button", name="Create network").click()
    expect(flash(page)).to_contain_text("Network net-1 created in pool alpha")
    row = page.locator('tr[data-network="net-1"]')
    remote_net = nova.network.find_network(row.get_attribute("data-remote-id") or "-")
    assert remote_net is not None and remote_net.project_id == mapping["remote_id"]
    shot(page, "network-created")
    row.get_by_role("button", name="Delete").click()
    expect(flash(page)).to_contain_text("Deleted network net-1 in pool alpha")
    expect(page.locator('tr[data-network="net-1"]')).to_have_count(0)
    assert nova.network.find_network(remote_net.id) is None
    assert dialogs[-1] == "Delete network net-1 in pool alpha?"
    shot(page, "network-deleted")

    page.get_by_role("link", name="Overview").click()
    mapping_row = page.locator('tr[data-mapping="alpha"]')
    expect(mapping_row.locator(".status")).to_have_text("active")
    expect(mapping_row).to_contain_text(mapping["project_name"])
    shot(page, "overview-mapping")

    leave_pool(site, boss, tenant["id"], "alpha")
    assert nova.identity.find_project(mapping["project_name"]) is None
