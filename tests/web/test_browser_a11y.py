"""Every tenant page in a real Chromium through axe-core (no serious or critical
violation), and a tenant admin managing users with the keyboard alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.web.axe import assert_accessible
from tests.web.live_server import LiveServer
from tests.web.test_browser import flash, log_in

pytestmark = [pytest.mark.browser]
Shot = Callable[[Page, str], None]
TENANT_PAGES = (
    "overview",
    "servers",
    "networks",
    "subnets",
    "routers",
    "floating-ips",
    "volumes",
    "users",
)


@pytest.fixture
def acme(site: LiveServer) -> LiveServer:
    body = {"name": "acme", "admin": {"username": "boss", "password": "boss-password"}}
    site.call("POST", "/v1/tenants", site.admin, json=body)
    return site


def test_tenant_pages_pass_axe(page: Page, acme: LiveServer, shot: Shot) -> None:
    page.goto("/console/login")
    assert_accessible(page)
    log_in(page, "acme", "boss", "boss-password")
    for name in TENANT_PAGES:
        page.goto(f"/console/{name}")
        expect(page.locator(f'header nav a[href="/console/{name}"]')).to_have_attribute(
            "aria-current", "page"
        )
        assert_accessible(page)
        shot(page, name)


def test_tenant_admin_manages_users_with_the_keyboard(
    page: Page, acme: LiveServer, shot: Shot, dialogs: list[str]
) -> None:
    log_in(page, "acme", "boss", "boss-password")
    page.goto("/console/users")

    # the skip link is the first stop, and leads past the navigation
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    form = page.locator("#create-user")
    form.get_by_label("Username").focus()
    page.keyboard.type("ann")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Password")).to_be_focused()
    page.keyboard.type("ann-password")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Role")).to_be_focused()
    page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Create user")).to_be_focused()
    page.keyboard.press("Enter")
    expect(flash(page)).to_contain_text("User ann created (member)")
    row = page.locator('tr[data-user="ann"]')
    expect(row).to_be_visible()
    shot(page, "user-created")

    role = row.get_by_label("Role of ann", exact=True)
    role.focus()
    role.select_option("tenant_admin")  # what arrow keys do on a focused select
    page.keyboard.press("Tab")
    expect(row.get_by_role("button", name="Change role of ann")).to_be_focused()
    page.keyboard.press("Enter")
    expect(flash(page)).to_contain_text("User ann: tenant_admin, enabled")

    page.locator('tr[data-user="ann"]').get_by_role("button", name="Disable ann").focus()
    page.keyboard.press("Enter")
    expect(flash(page)).to_contain_text("User ann: tenant_admin, disabled")
    expect(page.locator('tr[data-user="ann"]').get_by_test_id("enabled")).to_have_text(
        "no (disabled)"
    )
    assert_accessible(page)
    shot(page, "user-disabled")

    # the last enabled tenant admin cannot demote himself: the error is on the page
    boss = page.locator('tr[data-user="boss"]')
    boss.get_by_label("Role of boss", exact=True).select_option("member")
    boss.get_by_role("button", name="Change role of boss").press("Enter")
    expect(flash(page)).to_contain_text("without an enabled tenant_admin")
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)
    shot(page, "user-error")

    page.locator('tr[data-user="ann"]').get_by_role("button", name="Delete ann").press("Enter")
    expect(flash(page)).to_contain_text("User ann deleted")
    assert dialogs == ["Delete user ann?"]
    expect(page.locator('tr[data-user="ann"]')).to_have_count(0)
    shot(page, "user-deleted")
