"""Console pages through a TestClient (no browser): sessions, CSRF, flash messages."""

from __future__ import annotations

from tenantfusion.jobs.models import Job, JobState
from tenantfusion.pools.models import Pool, PoolStatus
from tests.conftest import ADMIN_PASSWORD, Api
from tests.web.console import Console, csrf_of


def admin_console(api: Api) -> Console:
    console = Console(api.client.app)
    assert console.login(None, "root", ADMIN_PASSWORD).headers["location"] == "/console"
    return console


def test_root_and_console_lead_to_login(sqlite_api: Api) -> None:
    console = Console(sqlite_api.client.app)
    assert console.get("/").headers["location"] == "/console"
    r = console.get("/console")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    page = console.get("/console/login")
    assert page.status_code == 200 and 'name="password"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert console.get("/console/static/console.css").status_code == 200


def test_admin_login_sets_a_strict_http_only_cookie(sqlite_api: Api) -> None:
    console = Console(sqlite_api.client.app)
    r = console.login(None, "root", ADMIN_PASSWORD)
    assert r.status_code == 303
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("tf_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http in tests; https sets it
    assert console.get("/console").headers["location"] == "/console/admin"
    admin = console.get("/console/admin")
    assert admin.status_code == 200 and "Platform administration" in admin.text
    assert "root (platform_admin)" in admin.text


def test_bad_password_shows_an_error_and_keeps_the_username(sqlite_api: Api) -> None:
    console = Console(sqlite_api.client.app)
    r = console.login(None, "root", "wrong-password-123")
    assert r.status_code == 401
    assert "Authentication required" in r.text and "wrong tenant, username or password" in r.text
    assert 'value="root"' in r.text and "wrong-password-123" not in r.text
    assert "tf_session" not in r.headers.get("set-cookie", "")


def test_overlong_login_input_is_refused_before_any_password_check(sqlite_api: Api) -> None:
    console = Console(sqlite_api.client.app)
    secret = "p" * 300
    r = console.login(None, "root", secret)
    assert r.status_code == 422 and "Invalid input" in r.text
    assert "password: Value should have at most 256 items" in r.text
    assert secret not in r.text and 'value="root"' in r.text


def test_session_token_is_never_rendered(sqlite_api: Api) -> None:
    console = admin_console(sqlite_api)
    token = console.client.cookies["tf_session"]
    for url in ("/console/admin", "/console/audit", "/console/login"):
        assert token not in console.get(url).text, url


def test_post_without_or_with_a_foreign_csrf_token_is_rejected(sqlite_api: Api) -> None:
    console = admin_console(sqlite_api)
    other = admin_console(sqlite_api)
    form = {"name": "evil", "admin_username": "boss", "admin_password": "boss-password"}
    for token in (None, "0" * 64, csrf_of(other.get("/console/admin").text)):
        data = form if token is None else {**form, "csrf_token": token}
        r = console.client.post("/console/admin/tenants", data=data)
        assert r.status_code == 403 and "Request rejected" in r.text
    assert "evil" not in console.get("/console/admin").text
    # a login form without the pre-login cookie's token is rejected too
    anonymous = Console(sqlite_api.client.app)
    r = anonymous.client.post("/console/login", data={"username": "root", "password": "x"})
    assert r.status_code == 403


def test_create_tenant_then_conflict_flash_keeps_input(sqlite_api: Api) -> None:
    console = admin_console(sqlite_api)
    form = {
        "name": "acme",
        "description": "<script>alert(1)</script>",
        "admin_username": "boss",
        "admin_password": "boss-password",
    }
    r = console.post("/console/admin/tenants", form, via="/console/admin")
    assert r.status_code == 303
    page = console.get("/console/admin").text
    assert "Tenant acme created" in page and 'data-tenant="acme"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page  # autoescaped
    again = console.post("/console/admin/tenants", form, via="/console/admin")
    assert again.status_code == 409
    assert "Conflict" in again.text and "tenant name &#39;acme&#39; is taken" in again.text
    assert 'name="admin_username" value="boss"' in again.text
    assert "boss-password" not in again.text


def test_delete_tenant_asks_first_and_flashes(sqlite_api: Api) -> None:
    tenant, _ = sqlite_api.new_tenant("doomed")
    console = admin_console(sqlite_api)
    assert 'data-confirm="Delete tenant doomed?"' in console.get("/console/admin").text
    url = f"/console/admin/tenants/{tenant['id']}/delete"
    r = console.post(url, {}, via="/console/admin")
    assert r.status_code == 303
    page = console.get("/console/admin").text
    assert "Tenant doomed deleted" in page and 'data-tenant="doomed"' not in page
    again = console.post(url, {}, via="/console/admin")
    assert again.status_code == 404 and "not found" in again.text


def test_invalid_form_input_is_a_flash_naming_the_field(sqlite_api: Api) -> None:
    console = admin_console(sqlite_api)
    r = console.post(
        "/console/admin/tenants",
        {"name": "bad name!", "admin_username": "boss", "admin_password": "short"},
        via="/console/admin",
    )
    assert r.status_code == 422 and "Invalid input" in r.text
    assert "name:" in r.text and "admin.password:" in r.text
    assert 'value="bad name!"' in r.text


def test_tenant_user_pages_and_admin_page_forbidden(sqlite_api: Api) -> None:
    tenant, _ = sqlite_api.new_tenant("acme")
    console = Console(sqlite_api.client.app)
    assert console.login("acme", "boss", "boss-password").status_code == 303
    assert console.get("/console").headers["location"] == "/console/overview"
    overview = console.get("/console/overview")
    assert overview.status_code == 200 and "No pools registered" in overview.text
    for url in ("/console/servers", "/console/networks", "/console/audit"):
        assert console.get(url).status_code == 200, url
    forbidden = console.get("/console/admin")
    assert forbidden.status_code == 403 and "Forbidden" in forbidden.text
    missing = console.get("/console/jobs/nope")
    assert missing.status_code == 404 and "job nope not found" in missing.text
    assert missing.headers["content-type"].startswith("text/html")


def test_service_errors_on_resource_forms_are_flashes(sqlite_api: Api) -> None:
    sqlite_api.new_tenant("acme")
    console = Console(sqlite_api.client.app)
    console.login("acme", "boss", "boss-password")
    form = {"name": "web-1", "flavor": "m1.nano", "image": "cirros", "pool": "", "network": ""}
    r = console.post("/console/servers", form, via="/console/servers")
    assert r.status_code == 503 and "Resource pool unavailable" in r.text
    assert "no pools registered" in r.text and 'name="name" value="web-1"' in r.text
    r = console.post("/console/servers/nope/delete", {}, via="/console/servers")
    assert r.status_code == 404 and "server nope not found" in r.text
    r = console.post("/console/networks", {"name": "", "pool": ""}, via="/console/networks")
    assert r.status_code == 422 and "Invalid input" in r.text
    r = console.get("/console/servers?marker=bogus")
    assert r.status_code == 422 and "marker is not a next_marker" in r.text


def test_platform_admin_has_no_tenant_pages(sqlite_api: Api) -> None:
    r = admin_console(sqlite_api).get("/console/servers")
    assert r.status_code == 403 and "as a tenant user" in r.text


def test_console_routes_are_told_apart_in_metrics(sqlite_api: Api) -> None:
    admin_console(sqlite_api).get("/console/admin")
    metrics = sqlite_api.client.get("/metrics", headers=sqlite_api.admin).text
    assert 'route="console.show_admin",status="200"' in metrics
    assert 'route="console.login",status="303"' in metrics


def test_logout_revokes_the_token(sqlite_api: Api) -> None:
    console = admin_console(sqlite_api)
    token = console.client.cookies["tf_session"]
    assert sqlite_api.client.get("/v1/auth/tokens", headers={"X-Auth-Token": token}).is_success
    r = console.post("/console/logout", {}, via="/console/admin")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert "Logged out" in console.get("/console/login").text
    assert (
        sqlite_api.client.get("/v1/auth/tokens", headers={"X-Auth-Token": token}).status_code == 401
    )
    stale = Console(sqlite_api.client.app)
    stale.client.cookies.set("tf_session", token, path="/console")
    assert stale.get("/console/admin").headers["location"] == "/console/login"


def test_audit_page_shows_events(sqlite_api: Api) -> None:
    sqlite_api.new_tenant("acme")
    page = admin_console(sqlite_api).get("/console/audit?action=tenant.create")
    assert page.status_code == 200 and "tenant.create" in page.text and "acme" in page.text


def test_session_cookie_is_secure_over_https(sqlite_api: Api) -> None:
    console = Console(sqlite_api.client.app)
    console.client.base_url = "https://testserver"
    r = console.login(None, "root", ADMIN_PASSWORD)
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("tf_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    r = console.post("/console/logout", {}, via="/console/admin")
    cookies = r.headers.get_list("set-cookie")
    assert all("Secure" in c and "SameSite=strict" in c for c in cookies), cookies
    assert {c.split("=")[0] for c in cookies} == {"tf_flash", "tf_session"}


def test_pages_with_unfinished_jobs_ask_for_live_refresh(sqlite_api: Api) -> None:
    """No worker runs here: a queued job keeps the live sections moving."""
    with sqlite_api.sessions.begin() as db:  # a registered pool (reconcile only queues a job)
        pool = Pool(
            name="east",
            driver="openstack",
            auth_url="http://127.0.0.1:1/v3",
            project_domain="Default",
            credential="",
            status=PoolStatus.ok,
        )
        db.add(pool)
    console = admin_console(sqlite_api)
    assert 'data-moving="false"' in console.get("/console/admin").text
    r = console.post("/console/admin/pools/east/reconcile", {}, via="/console/admin")
    job_url = r.headers["location"]
    assert r.status_code == 303 and job_url.startswith("/console/jobs/")
    queued = console.get(job_url).text
    assert 'data-moving="true"' in queued and "Not finished yet" in queued
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in queued
    assert 'id="jobs" data-live data-moving="true"' in console.get("/console/admin").text
    with sqlite_api.sessions() as db:  # the worker's part, done by hand (succeed commits)
        job = db.get(Job, job_url.rsplit("/", 1)[1])
        assert job is not None
        result = {"pool": "east", "adopted": ["<b>vm</b>"], "resources": {"dropped": []}}
        job.state, job.result = JobState.succeeded, result
        db.commit()
    done = console.get(job_url).text
    assert 'data-moving="false"' in done and 'data-testid="job-result"' in done
    assert "http-equiv" not in done
    assert "<dt>adopted</dt>" in done and "<code>&lt;b&gt;vm&lt;/b&gt;</code>" in done
    assert "<dt>dropped</dt>" in done
    r = console.post("/console/admin/pools/nope/check", {}, via="/console/admin")
    assert r.status_code == 404 and "pool nope not found" in r.text.lower()
