"""The console in a real Chromium against a live server and real Keystone pools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import pool_body
from tests.web.live_server import ADMIN, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.keystone]
Shot = Callable[[Page, str], None]


def log_in(page: Page, tenant: str, username: str, password: str) -> None:
    page.goto("/console")
    expect(page).to_have_url(f"{page.url.split('/console')[0]}/console/login")
    page.get_by_label("Tenant").fill(tenant)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def create_tenant(page: Page, name: str) -> None:
    form = page.locator("#create-tenant")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("First admin's username").fill("boss")
    form.get_by_label("First admin's password").fill("boss-password")
    form.get_by_role("button", name="Create tenant").click()


def flash(page: Page) -> Locator:
    return page.get_by_test_id("flash")


@pytest.fixture
def two_pools(site: LiveServer, keystone_pools: list[Any]) -> LiveServer:
    for name, info in zip(("east", "west"), keystone_pools, strict=True):
        site.call("POST", "/v1/pools", site.admin, json=pool_body(info, name))
    return site


def test_admin_checks_pools_creates_tenant_and_reconciles(
    page: Page, two_pools: LiveServer, shot: Shot, dialogs: list[str]
) -> None:
    log_in(page, "", *ADMIN)
    shot(page, "login-done")
    expect(page.get_by_role("heading", name="Platform administration")).to_be_visible()
    for name in ("east", "west"):
        expect(page.locator(f'tr[data-pool="{name}"] .status')).to_have_text("ok")

    page.locator('tr[data-pool="east"]').get_by_role("button", name="Check").click()
    expect(flash(page)).to_contain_text("Pool east: ok")
    expect(page.locator('tr[data-pool="east"]')).to_contain_text("identity")
    shot(page, "pools-health")

    create_tenant(page, "acme")
    expect(flash(page)).to_contain_text("Tenant acme created with tenant admin boss")
    expect(page.locator('tr[data-tenant="acme"]')).to_be_visible()
    assert "boss-password" not in page.content()
    shot(page, "tenant-created")

    # the same form again: the service's Conflict comes back as a flash, input kept
    create_tenant(page, "acme")
    expect(flash(page)).to_contain_text("tenant name 'acme' is taken")
    expect(page.locator("#create-tenant").get_by_label("Name", exact=True)).to_have_value("acme")
    shot(page, "tenant-conflict")

    create_tenant(page, "doomed")
    page.locator('tr[data-tenant="doomed"]').get_by_role("button", name="Delete").click()
    expect(flash(page)).to_contain_text("Tenant doomed deleted")
    assert dialogs == ["Delete tenant doomed?"]
    expect(page.locator('tr[data-tenant="doomed"]')).to_have_count(0)
    expect(page.locator('tr[data-tenant="acme"]')).to_be_visible()
    shot(page, "tenant-deleted")

    page.locator('tr[data-pool="west"]').get_by_role("button", name="Reconcile").click()
    expect(flash(page)).to_contain_text("Reconcile of pool west started")
    expect(page.get_by_test_id("job-state")).to_have_text("succeeded", timeout=60_000)
    expect(page.get_by_test_id("job-result")).to_contain_text("adopted")
    shot(page, "reconcile-job")

    page.goto("/console/audit")
    expect(page.locator("table")).to_contain_text("tenant.create")
    expect(page.locator("table")).to_contain_text("pool.reconcile")
    expect(page.locator("table")).to_contain_text("tenant.delete")
    shot(page, "audit-log")


def test_a_post_without_csrf_token_is_rejected(
    page: Page, two_pools: LiveServer, shot: Shot
) -> None:
    log_in(page, "", *ADMIN)
    page.locator('#create-tenant input[name="csrf_token"]').evaluate("input => input.remove()")
    create_tenant(page, "forged")
    expect(flash(page)).to_contain_text("Request rejected")
    shot(page, "csrf-rejected")
    # and a request forged outside any page, with the session cookie, fails the same way
    r = page.request.post("/console/admin/tenants", form={"name": "forged2"})
    assert r.status == 403
    assert two_pools.call("GET", "/v1/tenants", two_pools.admin)["items"] == []


def test_tenant_admin_sees_pools_and_errors(page: Page, two_pools: LiveServer, shot: Shot) -> None:
    two_pools.call(
        "POST",
        "/v1/tenants",
        two_pools.admin,
        json={"name": "acme", "admin": {"username": "boss", "password": "boss-password"}},
    )
    log_in(page, "acme", "boss", "not-the-password")
    expect(flash(page)).to_contain_text("wrong tenant, username or password")
    expect(page.get_by_label("Username")).to_have_value("boss")
    expect(page.get_by_label("Password")).to_have_value("")
    shot(page, "bad-password")

    log_in(page, "acme", "boss", "boss-password")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    for name in ("east", "west"):
        expect(page.locator(f'tr[data-pool="{name}"]')).to_contain_text("ok")
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    shot(page, "tenant-overview")

    # input the contract refuses comes back as a flash naming the field, input kept
    page.get_by_role("link", name="Networks").click()
    form = page.locator("#create-network")
    form.get_by_label("Name", exact=True).fill("n" * 300)
    form.get_by_role("button", name="Create network").click()
    expect(flash(page)).to_contain_text("Invalid input")
    expect(flash(page)).to_contain_text("name: String should have at most 255 characters")
    field = page.locator("#create-network").get_by_label("Name", exact=True)
    expect(field).to_have_value("n" * 300)
    shot(page, "network-invalid")

    page.get_by_role("button", name="Log out").click()
    expect(flash(page)).to_contain_text("Logged out")
    page.goto("/console/overview")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
