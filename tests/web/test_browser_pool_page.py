"""The operator's pool page on a real full pool: Placement's capacity against what is
used, as SVG bars whose numbers are text too, checked against Placement itself."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tenantfusion.testbed import PoolInfo, connect
from tests.conftest import pool_body
from tests.web.axe import assert_accessible
from tests.web.live_server import ADMIN, LiveServer
from tests.web.test_browser import log_in
from tests.web.test_browser_server import full_pool, leave_pool, wait_job

pytestmark = [pytest.mark.browser, pytest.mark.pools]
Shot = Callable[[Page, str], None]
__all__ = ["full_pool"]
CAPTION = re.compile(r"(\w+): ([\d,]+) of ([\d,]+) (\w+) used \((\d+)%\), ([\d,]+) free")


def placement_totals(cloud: Any) -> dict[str, int]:
    """(total - reserved) * allocation ratio per resource class, asked of Placement."""
    totals = {"VCPU": 0.0, "MEMORY_MB": 0.0, "DISK_GB": 0.0}
    for rp in cloud.placement.get("/resource_providers").json()["resource_providers"]:
        path = f"/resource_providers/{rp['uuid']}/inventories"
        for rc, inv in cloud.placement.get(path).json()["inventories"].items():
            if rc in totals:
                totals[rc] += (inv["total"] - inv["reserved"]) * inv["allocation_ratio"]
    return {rc: int(v) for rc, v in totals.items()}


def used_vcpus(page: Page) -> int:
    found = CAPTION.search(page.locator('figure[data-chart="vcpu"] figcaption').inner_text())
    assert found
    return int(found.group(2).replace(",", ""))


def test_operator_sees_pool_capacity_as_bars(
    page: Page, site: LiveServer, full_pool: PoolInfo, shot: Shot
) -> None:
    body = {**pool_body(full_pool, "alpha"), "default_network_cidr": "10.82.1.0/24"}
    site.call("POST", "/v1/pools", site.admin, json=body)
    tenant = site.call(
        "POST",
        "/v1/tenants",
        site.admin,
        json={"name": "acme", "admin": {"username": "boss", "password": "boss-password"}},
    )
    boss = site.token("acme", "boss", "boss-password")
    server = site.call(
        "POST",
        "/v1/servers",
        boss,
        json={"name": "load-1", "flavor": "m1.nano", "image": "cirros-tiny", "pool": "alpha"},
    )
    try:
        _check_page(page, site, full_pool, shot)
    finally:
        job = site.call("DELETE", f"/v1/servers/{server['id']}", boss)
        wait_job(site, boss, job["id"])
        leave_pool(site, boss, tenant["id"], "alpha")


def _check_page(page: Page, site: LiveServer, full_pool: PoolInfo, shot: Shot) -> None:
    log_in(page, "", *ADMIN)
    assert_accessible(page)  # the admin page, its pools linked
    page.locator('tr[data-pool="alpha"]').get_by_role("link", name="alpha").click()
    expect(page.get_by_role("heading", name="Pool alpha")).to_be_visible()
    expect(page.get_by_test_id("pool-status")).to_contain_text("ok")
    expect(page.get_by_test_id("breaker")).to_have_text("closed (calls go through)")
    expect(page.get_by_test_id("tenants")).to_have_text("1")
    # our server (1 vCPU) counts as used once Placement has its allocation (the driver
    # keeps capacity 15 s)
    deadline = time.monotonic() + 60
    while used_vcpus(page) < 1:
        assert time.monotonic() < deadline, "the server's vCPU never showed as used"
        time.sleep(3)
        page.reload()

    totals = placement_totals(connect(full_pool))
    for key, rc in (("vcpu", "VCPU"), ("ram", "MEMORY_MB"), ("disk", "DISK_GB")):
        figure = page.locator(f'figure[data-chart="{key}"]')
        caption = figure.locator("figcaption").inner_text()
        found = CAPTION.search(caption)
        assert found, caption
        used, total, percent, free = (int(found.group(i).replace(",", "")) for i in (2, 3, 5, 6))
        assert total == totals[rc] > 0 and used + free == total, caption
        assert percent == round(100 * used / total)
        # the picture says the same: an accessible name with the numbers, a hatched part
        # as wide as the share used
        svg = figure.locator("svg")
        expect(svg).to_have_attribute("role", "img")
        title = svg.locator("title").text_content() or ""
        assert f"{used:,} of {total:,}" in title and f"({percent}%)" in title
        bars = svg.locator("rect[fill^='url(#hatch-']")
        if used:
            width = float(bars.get_attribute("width") or 0)
            assert abs(width - max(1, 400 * used / total)) <= 1
    assert_accessible(page)
    shot(page, "pool-capacity")
