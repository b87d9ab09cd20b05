"""The new console pages in a real Chromium through axe-core (no serious or critical
violation): the tenant's overview with its quota bars, quotas, API keys (the secret shown
once), a real job's timeline; the operator's quota form used with the keyboard alone and
the pool page's health history from real sweeps of a real Keystone pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tenantfusion.reconciler.health import sweep
from tests.conftest import pool_body
from tests.web.axe import assert_accessible
from tests.web.live_server import ADMIN, LiveServer
from tests.web.test_browser import flash, log_in
from tests.web.test_browser_server import wait_job

pytestmark = [pytest.mark.browser, pytest.mark.keystone]
Shot = Callable[[Page, str], None]


@pytest.fixture
def acme(site: LiveServer, keystone_pools: list[Any]) -> dict[str, Any]:
    site.call("POST", "/v1/pools", site.admin, json=pool_body(keystone_pools[0], "alpha"))
    body = {"name": "acme", "admin": {"username": "boss", "password": "boss-password"}}
    return dict(site.call("POST", "/v1/tenants", site.admin, json=body))


def test_operator_sets_quotas_with_the_keyboard(
    page: Page, site: LiveServer, acme: dict[str, Any], shot: Shot
) -> None:
    log_in(page, "", *ADMIN)
    page.goto("/console/admin")
    page.get_by_role("link", name="Quotas of acme").click()
    expect(page.get_by_role("heading", name="Quotas of tenant acme")).to_be_visible()
    assert_accessible(page)

    form = page.locator("#quota-form")
    scope = form.get_by_label("Scope")
    scope.focus()
    scope.select_option("alpha")  # what arrow keys do on a focused select
    page.keyboard.press("Tab")
    expect(form.get_by_label("Servers (servers)")).to_be_focused()
    page.keyboard.type("4")
    page.keyboard.press("Tab")
    expect(form.get_by_label("vCPU (vCPU)")).to_be_focused()
    page.keyboard.type("8")
    for _ in range(6):  # RAM, volumes, volume storage, networks, routers, floating IPs
        page.keyboard.press("Tab")
    expect(form.get_by_label("Floating IPs (floating IPs)")).to_be_focused()
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Save limits")).to_be_focused()
    page.keyboard.press("Enter")
    expect(flash(page)).to_contain_text("Limits saved for pool alpha")
    figure = page.locator('figure[data-chart="pool-alpha-servers"] figcaption')
    expect(figure).to_have_text("Servers: 0 of 4 servers used (0%), 4 free")
    assert_accessible(page)
    shot(page, "limits-saved")

    quotas = site.call("GET", f"/v1/tenants/{acme['id']}/quotas", site.admin)
    assert {r: u["limit"] for r, u in quotas["pools"]["alpha"].items() if u["limit"]} == {
        "servers": 4,
        "vcpus": 8,
        "floating_ips": 2,
    }

    # a refused value keeps the input and says which field, reachable by keyboard again
    form.get_by_label("Servers (servers)").fill("-3")
    form.get_by_label("Servers (servers)").evaluate("e => e.removeAttribute('min')")
    form.get_by_label("Servers (servers)").press("Enter")
    expect(flash(page)).to_contain_text("servers:")
    expect(page.locator("#quota-form").get_by_label("Servers (servers)")).to_have_value("-3")


def test_new_pages_pass_axe(page: Page, site: LiveServer, acme: dict[str, Any], shot: Shot) -> None:
    boss = site.token("acme", "boss", "boss-password")
    limits = {"servers": 10, "networks": 3}
    site.call("PUT", f"/v1/tenants/{acme['id']}/quotas", site.admin, json=limits)
    url = f"/v1/tenants/{acme['id']}/mappings/alpha"
    site.call("PUT", url, boss)
    job = site.call("DELETE", url, boss)
    wait_job(site, boss, job["id"])
    for _ in range(2):
        assert sweep(sessions=site.sessions, settings=site.settings)["alpha"] == "ok"
    # one real network in the pool: counted against the platform limit and in pool alpha
    net = site.call("POST", "/v1/networks", boss, json={"name": "n1", "pool": "alpha"})

    log_in(page, "acme", "boss", "boss-password")
    page.goto("/console/overview")
    expect(page.locator('figure[data-chart="platform-networks"] figcaption')).to_have_text(
        "Networks: 1 of 3 networks used (33%), 2 free"
    )
    expect(page.locator('div[data-scope="pool-alpha"]')).to_contain_text("Networks (1 used)")
    assert_accessible(page)
    shot(page, "overview")
    page.goto("/console/quotas")
    expect(
        page.locator('table[data-scope="platform"] tr[data-resource="servers"]')
    ).to_contain_text("10")
    assert_accessible(page)
    shot(page, "quotas")

    page.goto("/console/api-keys")
    assert_accessible(page)
    page.get_by_label("Name").fill("ci")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_test_id("new-secret")
    expect(secret).to_contain_text("tfs_")
    assert_accessible(page)
    shot(page, "key-created")
    page.goto("/console/api-keys")
    expect(page.get_by_test_id("new-secret")).to_have_count(0)
    page.get_by_role("button", name="Revoke API key ci").click()
    expect(flash(page)).to_contain_text("API key ci revoked")
    assert_accessible(page)

    page.goto(f"/console/jobs/{job['id']}")
    timeline = page.locator('figure[data-chart="timeline"]')
    expect(timeline.locator("li").first).to_contain_text("queued: at +0.0 s")
    expect(timeline.locator("li").last).to_contain_text("succeeded")
    assert_accessible(page)
    shot(page, "job-timeline")

    site.call("DELETE", f"/v1/networks/{net['id']}", boss)  # leave the shared pool clean
    wait_job(site, boss, site.call("DELETE", url, boss)["id"])

    page.get_by_role("button", name="Log out").click()
    log_in(page, "", *ADMIN)
    page.goto("/console/admin/pools/alpha")
    expect(page.locator('figure[data-chart="latency"] figcaption')).to_contain_text(
        "Health check latency, 2 samples"
    )
    expect(page.locator('figure[data-chart="breaker"] figcaption')).to_contain_text("latest closed")
    assert_accessible(page)
    shot(page, "pool-health-history")
