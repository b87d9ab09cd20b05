"""The Volumes page on a real full pool (Cinder with its fake driver, Nova's fake driver), in
a real Chromium: a tenant creates a volume, attaches it to a server of its pool, sees it on
the server's page, detaches and deletes it. The pool's own Nova and Cinder, read as its
admin, witness each step; axe-core checks the pages."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tenantfusion.testbed import PoolInfo, connect
from tests.web.axe import assert_accessible
from tests.web.live_server import LiveServer
from tests.web.test_browser import log_in
from tests.web.test_browser_parity import Shot, _ok, acme, nav
from tests.web.test_browser_server import SLOW_MS, full_pool

pytestmark = [pytest.mark.browser, pytest.mark.pools]
__all__ = ["acme", "full_pool"]  # the fixtures, shared


def _active_server(site: LiveServer, boss: dict[str, str]) -> dict[str, Any]:
    """vm-1 on a network of its own in pool alpha (the fixture's pool has no default one)."""
    net = site.call("POST", "/v1/networks", boss, json={"name": "net-v", "pool": "alpha"})
    subnet = {"name": "sub-v", "network": net["id"], "cidr": "10.83.1.0/24"}
    site.call("POST", "/v1/subnets", boss, json=subnet)
    body = {"name": "vm-1", "flavor": "m1.nano", "image": "cirros-tiny", "network": net["id"]}
    server = site.call("POST", "/v1/servers", boss, json=body)
    deadline = time.monotonic() + SLOW_MS / 1000
    while (server := site.call("GET", f"/v1/servers/{server['id']}", boss))["status"] != "ACTIVE":
        assert server["status"] != "ERROR" and time.monotonic() < deadline, server["status"]
        time.sleep(1)
    return server


def test_tenant_attaches_and_detaches_a_volume_from_the_console(
    page: Page,
    site: LiveServer,
    acme: dict[str, Any],
    full_pool: PoolInfo,
    shot: Shot,
    dialogs: list[str],
) -> None:
    cloud: Any = connect(full_pool)  # the pool's admin (openstacksdk): the witness
    catalog = {entry["type"] for entry in cloud.service_catalog}
    assert "block-storage" in catalog, f"the bed's full pool runs no Cinder: {sorted(catalog)}"
    boss = site.token("acme", "boss", "boss-password")
    server = _active_server(site, boss)

    log_in(page, "acme", "boss", "boss-password")
    nav(page, "Volumes")
    form = page.locator("#create-volume")
    form.get_by_label("Name", exact=True).fill("data-1")
    form.get_by_label("Size (GiB)").fill("2")
    form.get_by_label("Pool", exact=True).select_option("alpha")
    form.get_by_role("button", name="Create volume").click()
    _ok(page, "Volume data-1 created in pool alpha")
    row = page.locator('tr[data-volume="data-1"]')
    expect(row).to_contain_text("2 GiB")
    expect(row.locator(".status")).to_have_text("available", timeout=SLOW_MS)
    remote = row.get_attribute("data-remote-id") or "-"
    volume = cloud.block_storage.get_volume(remote)
    assert volume.size == 2 and volume.project_id == server_project(cloud, server)
    assert_accessible(page)
    shot(page, "volume-created")

    # attach: only servers of the volume's pool are offered; Nova records the attachment
    row.get_by_label("Server for data-1").select_option(label="vm-1")
    row.get_by_role("button", name="Attach data-1").click()
    _ok(page, "Attach: volume data-1 in pool alpha")
    expect(row.locator(".status")).to_have_text("in-use", timeout=SLOW_MS)
    expect(row.get_by_test_id("volume-server")).to_contain_text("vm-1")
    nova_sees = [a.volume_id for a in cloud.compute.volume_attachments(server["remote_id"])]
    assert nova_sees == [remote]
    assert_accessible(page)
    shot(page, "volume-attached")

    # the server's page lists it and detaches it
    row.get_by_test_id("volume-server").get_by_role("link", name="vm-1").click()
    on_server = page.locator('#server-volumes tr[data-volume="data-1"]')
    expect(on_server).to_contain_text("2 GiB")
    assert_accessible(page)
    shot(page, "server-volumes")
    on_server.get_by_role("button", name="Detach data-1").click()
    _ok(page, "Detach: volume data-1 in pool alpha")
    expect(page.locator("#server-volumes tr[data-volume]")).to_have_count(0, timeout=SLOW_MS)
    deadline = time.monotonic() + SLOW_MS / 1000
    while cloud.block_storage.get_volume(remote).status != "available":
        assert time.monotonic() < deadline, "Cinder never saw the detach"
        time.sleep(1)
    assert list(cloud.compute.volume_attachments(server["remote_id"])) == []

    # deleted from the Volumes page; Cinder lets it go
    nav(page, "Volumes")
    expect(row.get_by_test_id("volume-server")).to_have_text("—")
    row.get_by_role("button", name="Delete volume data-1").click()
    _ok(page, "Deleted volume data-1 in pool alpha")
    assert dialogs[-1] == "Delete volume data-1 in pool alpha?"
    expect(page.locator("tr[data-volume]")).to_have_count(0)
    while cloud.block_storage.find_volume(remote, all_projects=True) is not None:
        assert time.monotonic() < deadline, "Cinder still has the volume"
        time.sleep(1)
    shot(page, "volume-deleted")


def server_project(cloud: Any, server: dict[str, Any]) -> str:
    return str(cloud.compute.get_server(server["remote_id"]).project_id)
