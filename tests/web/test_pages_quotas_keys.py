"""Quotas and API key pages through a TestClient: what the quota service reads is what
the pages show; limits set on the admin page are the API's; a key's secret shows once."""

from __future__ import annotations

import re

from tests.conftest import Api
from tests.web.console import Console
from tests.web.test_pages import admin_console
from tests.web.test_pages_tenant import tenant_console


def test_admin_sets_limits_and_the_tenant_sees_them_as_bars(sqlite_api: Api) -> None:
    tenant, boss = sqlite_api.new_tenant("acme")
    admin = admin_console(sqlite_api)
    url = f"/console/admin/tenants/{tenant['id']}/quotas"
    assert url in admin.get("/console/admin").text
    page = admin.get(url)
    assert page.status_code == 200 and 'id="quota-form"' in page.text
    assert "No limit on: Servers (0 used)" in page.text

    r = admin.post(url, {"pool": "", "servers": "10", "vcpus": "8", "ram_mb": ""}, via=url)
    assert r.status_code == 303 and r.headers["location"] == url
    assert "Limits saved for all pools" in admin.get(url).text
    api = sqlite_api.client.get(f"/v1/tenants/{tenant['id']}/quotas", headers=boss).json()
    assert (
        api["resources"]["servers"]["limit"] == 10 and api["resources"]["ram_mb"]["limit"] is None
    )

    # a refused value: the service's own validation, the input kept
    bad = admin.post(url, {"servers": "-1", "vcpus": "3"}, via=url)
    assert bad.status_code == 422 and "servers:" in bad.text
    assert 'id="quota-vcpus" value="3"' in bad.text
    unknown = admin.post(url, {"pool": "nowhere", "servers": "1"}, via=url)
    assert unknown.status_code == 404

    console = tenant_console(sqlite_api)
    for page_url in ("/console/overview", "/console/quotas"):
        text = console.get(page_url).text
        assert 'data-chart="platform-servers"' in text
        assert "Servers: 0 of 10 servers used (0%), 10 free" in text
        assert "vCPU: 0 of 8 vCPU used (0%), 8 free" in text
    quotas = console.get("/console/quotas").text
    assert 'id="quota-form"' not in quotas and "no limit" in quotas
    # a tenant user may not set limits
    assert console.client.get(url).status_code == 403


def _secret(text: str) -> str:
    found = re.search(r'data-testid="new-secret">([^<]+)<', text)
    assert found
    return found.group(1)


def test_api_keys_page_creates_shows_secret_once_and_revokes(sqlite_api: Api) -> None:
    sqlite_api.new_tenant("acme")
    console: Console = tenant_console(sqlite_api)
    page = console.get("/console/api-keys")
    assert page.status_code == 200 and "No API keys yet." in page.text

    made = console.post(
        "/console/api-keys", {"name": "ci", "expires_in_days": ""}, via="/console/api-keys"
    )
    assert made.status_code == 201
    secret = _secret(made.text)
    assert secret.startswith("tfs_") and "tf_flash" not in made.headers.get("set-cookie", "")
    listed = console.get("/console/api-keys").text
    assert 'data-key="ci"' in listed and secret not in listed and "never" in listed

    bad = console.post("/console/api-keys", {"name": "no spaces!"}, via="/console/api-keys")
    assert bad.status_code == 422 and "name:" in bad.text

    key_id = re.search(r"/console/api-keys/([^/]+)/revoke", listed)
    assert key_id
    r = console.post(f"/console/api-keys/{key_id.group(1)}/revoke", {}, via="/console/api-keys")
    assert r.status_code == 303
    after = console.get("/console/api-keys").text
    assert "API key ci revoked" in after and "s-revoked" in after and "/revoke" not in after
    gone = console.post("/console/api-keys/nope/revoke", {}, via="/console/api-keys")
    assert gone.status_code == 404
