"""Tenant admin pages through a TestClient: users, job retry, leaving a pool, new routes'
CSRF and error handling (no pool reached; the browser tests cover the pool flows)."""

from __future__ import annotations

from sqlalchemy import select

from tenantfusion.crypto import encrypt_json
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.pools.drivers.base import PoolAuth
from tenantfusion.pools.models import Pool, PoolStatus
from tenantfusion.resources.models import RoutingRecord
from tests.conftest import ADMIN_PASSWORD, Api
from tests.web.console import Console


def tenant_console(api: Api, username: str = "boss", password: str = "") -> Console:
    console = Console(api.client.app)
    assert console.login("acme", username, password or f"{username}-password").status_code == 303
    return console


def user_id(api: Api, headers: dict[str, str], tenant_id: object, username: str) -> str:
    users = api.client.get(f"/v1/tenants/{tenant_id}/users", headers=headers).json()["items"]
    return str(next(u["id"] for u in users if u["username"] == username))


def test_tenant_admin_manages_users(sqlite_api: Api) -> None:
    tenant, boss = sqlite_api.new_tenant("acme")
    console = tenant_console(sqlite_api)
    page = console.get("/console/users")
    assert page.status_code == 200 and 'data-user="boss"' in page.text
    assert '<a href="/console/users" aria-current="page">Users</a>' in page.text

    form = {"username": "ann", "password": "ann-password", "role": "member"}
    r = console.post("/console/users", form, via="/console/users")
    assert r.status_code == 303 and r.headers["location"] == "/console/users"
    assert "User ann created (member)" in console.get("/console/users").text
    ann = user_id(sqlite_api, boss, tenant["id"], "ann")

    # the same name again: the service's Conflict on the page, the input kept but not the
    # password
    again = console.post("/console/users", form, via="/console/users")
    assert again.status_code == 409 and "ann" in again.text and "taken" in again.text
    assert 'name="username" value="ann"' in again.text and "ann-password" not in again.text
    short = console.post("/console/users", {**form, "password": "x"}, via="/console/users")
    assert short.status_code == 422 and "password:" in short.text

    r = console.post(f"/console/users/{ann}/update", {"role": "tenant_admin"}, via="/console/users")
    assert r.status_code == 303
    assert "User ann: tenant_admin, enabled" in console.get("/console/users").text
    r = console.post(f"/console/users/{ann}/update", {"is_enabled": "false"}, via="/console/users")
    assert r.status_code == 303
    assert "User ann: tenant_admin, disabled" in console.get("/console/users").text
    r = sqlite_api.client.post(
        "/v1/auth/tokens", json={"tenant": "acme", "username": "ann", "password": "ann-password"}
    )
    assert r.status_code == 401

    # boss is then the only enabled tenant admin: the page refuses to demote or delete him
    me = user_id(sqlite_api, boss, tenant["id"], "boss")
    r = console.post(f"/console/users/{me}/update", {"role": "member"}, via="/console/users")
    assert r.status_code == 409 and "without an enabled tenant_admin" in r.text
    r = console.post(f"/console/users/{me}/delete", {}, via="/console/users")
    assert r.status_code == 409

    r = console.post(f"/console/users/{ann}/delete", {}, via="/console/users")
    assert r.status_code == 303
    page = console.get("/console/users").text
    assert "User ann deleted" in page and 'data-user="ann"' not in page
    assert 'data-confirm="Delete user boss?"' in page


def test_members_cannot_manage_users(sqlite_api: Api) -> None:
    tenant, boss = sqlite_api.new_tenant("acme")
    body = {"username": "mia", "password": "mia-password", "role": "member"}
    sqlite_api.client.post(f"/v1/tenants/{tenant['id']}/users", headers=boss, json=body)
    member = tenant_console(sqlite_api, "mia", "mia-password")
    assert member.get("/console/users").status_code == 403
    assert 'href="/console/users"' not in member.get("/console/overview").text
    form = {"username": "eve", "password": "eve-password"}
    r = member.post("/console/users", form, via="/console/overview")
    assert r.status_code == 403 and "needs an admin role" in r.text
    me = user_id(sqlite_api, boss, tenant["id"], "mia")
    r = member.post(
        f"/console/users/{me}/update", {"role": "tenant_admin"}, via="/console/overview"
    )
    assert r.status_code == 403


def test_new_forms_need_the_csrf_token(sqlite_api: Api) -> None:
    sqlite_api.new_tenant("acme")
    console = tenant_console(sqlite_api)
    for url in (
        "/console/users",
        "/console/subnets",
        "/console/mappings",
        "/console/routers/x/action",
        "/console/jobs/x/retry",
        "/console/mappings/east/leave",
    ):
        r = console.client.post(url, data={"name": "x"})
        assert r.status_code == 403 and "Request rejected" in r.text, url


def test_resource_forms_take_the_api_models(sqlite_api: Api) -> None:
    sqlite_api.new_tenant("acme")
    console = tenant_console(sqlite_api)
    bad = {"name": "s1", "network": "n1", "cidr": "10.0.0.1/24"}
    r = console.post("/console/subnets", bad, via="/console/subnets")
    assert r.status_code == 422 and "cidr:" in r.text and 'value="10.0.0.1/24"' in r.text
    r = console.post("/console/routers/nope/action", {"action": "explode"}, via="/console/routers")
    assert r.status_code == 422 and "action:" in r.text
    r = console.post(
        "/console/floating-ips/nope/action", {"action": "associate"}, via="/console/floating-ips"
    )
    assert r.status_code == 422 and "associate needs a server" in r.text
    r = console.post("/console/networks/nope/action", {"action": "x"}, via="/console/networks")
    assert r.status_code == 404 and "networks have no actions" in r.text
    r = console.post("/console/volcanoes", {"name": "x"}, via="/console/servers")
    assert r.status_code == 404
    assert console.get("/console/servers/nope").status_code == 404


def _pool(api: Api) -> Pool:
    with api.sessions.begin() as db:
        pool = Pool(
            name="east",
            driver="openstack",
            auth_url="http://127.0.0.1:1/v3",
            project_domain="Default",
            credential="",
            status=PoolStatus.ok,
            services=["identity", "compute", "network"],
        )
        db.add(pool)
        db.flush()
        db.expunge(pool)
    return pool


def test_leaving_a_pool_asks_first_and_starts_the_job(sqlite_api: Api) -> None:
    tenant, _ = sqlite_api.new_tenant("acme")
    pool = _pool(sqlite_api)
    console = tenant_console(sqlite_api)
    overview = console.get("/console/overview").text
    assert 'id="onboard"' in overview and '<option value="east">' in overview
    with sqlite_api.sessions.begin() as db:
        db.add(
            Mapping(
                tenant_id=str(tenant["id"]),
                pool_id=pool.id,
                state=MappingState.active,
                project_name="tf-acme",
                user_name="tf-acme",
            )
        )
    overview = console.get("/console/overview").text
    assert 'href="/console/mappings/east/leave"' in overview and 'id="onboard"' not in overview
    with sqlite_api.sessions.begin() as db:  # an object there: leaving needs purge
        server = RoutingRecord(
            tenant_id=str(tenant["id"]), pool_id=pool.id, kind="server", remote_id="r-1"
        )
        db.add(server)
    confirm = console.get("/console/mappings/east/leave")
    assert confirm.status_code == 200 and "tf-acme" in confirm.text
    assert "1 server" in confirm.text and 'name="purge" value="true" required' in confirm.text
    leave_url = "/console/mappings/east/leave"
    r = console.post(leave_url, {}, via=leave_url)
    assert r.status_code == 409 and "still holds 1 object(s)" in r.text and "tf-acme" in r.text
    with sqlite_api.sessions.begin() as db:
        db.delete(db.get(RoutingRecord, server.id))
    confirm = console.get("/console/mappings/east/leave")
    assert "no objects left" in confirm.text and 'name="purge"' not in confirm.text
    r = console.post(leave_url, {}, via=leave_url)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/jobs/")
    job_url = r.headers["location"]
    job = console.get(job_url).text
    assert "mapping.deprovision" in job and "Leaving pool east" in job
    assert "Retry job" not in job
    assert console.get("/console/mappings/nope/leave").status_code == 404

    # a queued job cannot be retried; a failed one can, from its page or the jobs table
    r = console.post(f"{job_url}/retry", {}, via=job_url)
    assert r.status_code == 409 and "only a failed job can be retried" in r.text
    with sqlite_api.sessions.begin() as db:
        found = db.get(Job, job_url.rsplit("/", 1)[1])
        assert found is not None
        found.state, found.error, found.attempts = JobState.failed, "pool said no", 5
    failed = console.get(job_url).text
    assert "Retry job" in failed and "pool said no" in failed
    assert 'aria-label="Retry job ' in console.get("/console/overview").text
    r = console.post(f"{job_url}/retry", {}, via=job_url)
    assert r.status_code == 303 and r.headers["location"] == job_url
    again = console.get(job_url).text
    assert "queued again" in again and "s-queued" in again and "Retry job" not in again
    with sqlite_api.sessions() as db:
        found = db.get(Job, job_url.rsplit("/", 1)[1])
        assert found is not None and found.state is JobState.queued and found.attempts == 0


def test_operator_pool_page_without_placement_answers(sqlite_api: Api) -> None:
    sqlite_api.new_tenant("acme")
    _pool(sqlite_api)  # no placement service
    console = Console(sqlite_api.client.app)
    console.login(None, "root", ADMIN_PASSWORD)
    assert 'href="/console/admin/pools/east"' in console.get("/console/admin").text
    page = console.get("/console/admin/pools/east").text
    assert "no Placement service" in page and "closed (calls go through)" in page
    settings = sqlite_api.client.app.state.settings  # type: ignore[attr-defined]
    auth = PoolAuth(auth_url="http://127.0.0.1:1/v3", username="admin", password="x" * 8)
    with sqlite_api.sessions.begin() as db:  # Placement said to be there, but nothing answers
        found = db.scalar(select(Pool).where(Pool.name == "east"))
        assert found is not None
        found.services = [*found.services, "placement"]
        found.credential = encrypt_json(auth.to_dict(), settings=settings)
    r = console.get("/console/admin/pools/east")
    assert r.status_code == 200 and "Capacity unavailable:" in r.text
    assert 'data-chart="vcpu"' not in r.text
    assert console.get("/console/admin/pools/nope").status_code == 404
    assert tenant_console(sqlite_api).get("/console/admin/pools/east").status_code == 403


def test_volumes_page_and_forms(sqlite_api: Api) -> None:
    sqlite_api.new_tenant("acme")
    console = tenant_console(sqlite_api)
    page = console.get("/console/volumes")
    assert page.status_code == 200 and "No volumes." in page.text
    assert '<a href="/console/volumes" aria-current="page">Volumes</a>' in page.text
    assert 'id="create-volume"' in page.text and 'name="size_gb"' in page.text
    r = console.client.post("/console/volumes", data={"name": "v1", "size_gb": "1"})
    assert r.status_code == 403 and "Request rejected" in r.text

    # the API's VolumeCreate and VolumeAction decide, the input kept
    r = console.post("/console/volumes", {"name": "v1", "size_gb": "0"}, via="/console/volumes")
    assert r.status_code == 422 and "size_gb:" in r.text and 'name="name" value="v1"' in r.text
    r = console.post("/console/volumes/nope/action", {"action": "swap"}, via="/console/volumes")
    assert r.status_code == 422 and "action:" in r.text
    r = console.post("/console/volumes/nope/action", {"action": "detach"}, via="/console/volumes")
    assert r.status_code == 404
    # no pool offers block storage here: the form says so
    assert "No pool offers block storage." in console.get("/console/volumes").text
