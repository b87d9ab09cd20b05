"""The mapping engine against real Keystone pools; the pool's own admin API is the witness."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tenantfusion.mapping.steps import installation_tag, tenant_tag
from tenantfusion.platform import service as platform_service
from tests.conftest import Api, admin_conn, pool_body
from tests.platform.test_views import assert_problem

pytestmark = pytest.mark.keystone


def register(api: Api, pool: Any, name: str = "alpha") -> None:
    r = api.client.post("/v1/pools", headers=api.admin, json=pool_body(pool, name))
    assert r.status_code == 201, r.text


def projects_of(pool: Any, tenant_id: str) -> list[Any]:
    return list(admin_conn(pool).identity.projects(tags=tenant_tag(tenant_id)))


def users_named(pool: Any, name: str) -> list[Any]:
    return [u for u in admin_conn(pool).identity.users(name=name)]


def run_jobs(api: Api) -> int:
    from tenantfusion.jobs.worker import run_pending

    return run_pending(sessions=api.sessions, settings=api.client.app.state.settings)


def test_ensure_creates_tagged_project_and_member_user(api: Api, keystone_pools: list[Any]) -> None:
    pool = keystone_pools[0]
    register(api, pool)
    tenant, boss = api.new_tenant()
    r = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss)
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["state"] == "active" and m["pool"] == "alpha" and m["remote_id"]
    projects = projects_of(pool, tenant["id"])
    assert [p.id for p in projects] == [m["remote_id"]]
    with api.sessions() as db:
        install = platform_service.installation_id(db=db)
    assert installation_tag(install) in projects[0].tags
    users = users_named(pool, m["project_name"])
    assert [u.id for u in users] == [m["remote_user_id"]]
    conn = admin_conn(pool)
    assignments = list(conn.identity.role_assignments(user_id=users[0].id))
    member = conn.identity.find_role("member")
    assert [(a.scope["project"]["id"], a.role["id"]) for a in assignments] == [
        (m["remote_id"], member.id)
    ]
    # idempotent: the second ensure finds the active mapping and changes nothing
    again = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss)
    assert again.status_code == 200 and again.json()["remote_id"] == m["remote_id"]
    assert len(projects_of(pool, tenant["id"])) == 1
    listed = api.client.get(f"/v1/tenants/{tenant['id']}/mappings", headers=boss).json()
    assert [x["pool"] for x in listed["items"]] == ["alpha"]
    # the pool user's password is stored encrypted, never in plain text
    with api.sessions() as db:
        cred = db.execute(text("SELECT credential FROM mapping")).scalar_one()
    assert cred.startswith("gAAAA")


def test_pool_user_is_least_privilege(api: Api, keystone_pools: list[Any]) -> None:
    from tenantfusion.mapping.models import Mapping
    from tenantfusion.mapping.sessions import tenant_session
    from tenantfusion.pools.models import Pool

    pool = keystone_pools[0]
    register(api, pool)
    a, boss_a = api.new_tenant()
    b, boss_b = api.new_tenant()
    ma = api.client.put(f"/v1/tenants/{a['id']}/mappings/alpha", headers=boss_a).json()
    mb = api.client.put(f"/v1/tenants/{b['id']}/mappings/alpha", headers=boss_b).json()
    with api.sessions() as db:
        mapping = db.get(Mapping, ma["id"])
        pool_row = db.get(Pool, ma["pool_id"])
        session = tenant_session(
            mapping=mapping, pool=pool_row, settings=api.client.app.state.settings
        )
    identity = {"service_type": "identity", "interface": "public"}
    own = session.get("/auth/projects", endpoint_filter=identity).json()["projects"]
    assert [p["id"] for p in own] == [ma["remote_id"]]
    assert session.get("/projects", endpoint_filter=identity, raise_exc=False).status_code == 403
    other = session.get(f"/projects/{mb['remote_id']}", endpoint_filter=identity, raise_exc=False)
    assert other.status_code == 403
    roles = set(session.auth.get_access(session).role_names)
    assert "member" in roles and roles <= {"member", "reader"}  # reader is implied by member


def test_adopts_tagged_project_after_lost_row(api: Api, keystone_pools: list[Any]) -> None:
    """A restored database (mapping row gone) re-adopts the project and user, no duplicate."""
    pool = keystone_pools[0]
    register(api, pool)
    tenant, boss = api.new_tenant()
    first = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss).json()
    with api.sessions() as db:
        db.execute(text("DELETE FROM mapping"))
        db.commit()
    r = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss)
    assert r.status_code == 201, r.text
    second = r.json()
    assert second["remote_id"] == first["remote_id"]
    assert second["remote_user_id"] == first["remote_user_id"]
    assert second["is_adopted"] is True
    assert len(projects_of(pool, tenant["id"])) == 1
    assert len(users_named(pool, first["project_name"])) == 1


def test_refuses_untagged_project_with_same_name(api: Api, keystone_pools: list[Any]) -> None:
    from tenantfusion.mapping.steps import remote_name

    pool = keystone_pools[0]
    register(api, pool)
    tenant, boss = api.new_tenant()
    with api.sessions() as db:
        name = remote_name(
            installation_id=platform_service.installation_id(db=db), tenant_id=tenant["id"]
        )
    conn = admin_conn(pool)
    squatter = conn.identity.create_project(name=name, domain_id="default")
    try:
        r = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss)
        assert_problem(r, 502, "step-failed")
        shown = api.client.get(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss).json()
        assert shown["state"] == "failed" and "refusing to adopt" in shown["reason"]
        assert users_named(pool, name) == []
    finally:
        conn.identity.delete_project(squatter)


def test_deprovision_removes_project_and_user(api: Api, keystone_pools: list[Any]) -> None:
    pool = keystone_pools[0]
    register(api, pool)
    tenant, boss = api.new_tenant()
    m = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss).json()
    refused = api.client.delete(f"/v1/tenants/{tenant['id']}", headers=api.admin)
    assert_problem(refused, 409, "objects-left")
    assert refused.json()["mappings"] == ["alpha"] and refused.json()["objects"] == {}
    r = api.client.delete(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss)
    assert r.status_code == 202 and r.json()["kind"] == "mapping.deprovision"
    # while deleting, an ensure is refused instead of racing the delete
    assert_problem(
        api.client.put(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss), 409, "conflict"
    )
    assert run_jobs(api) == 1
    job = api.client.get(f"/v1/jobs/{r.json()['id']}", headers=boss).json()
    assert job["state"] == "succeeded", job
    assert projects_of(pool, tenant["id"]) == []
    assert users_named(pool, m["project_name"]) == []
    assert_problem(
        api.client.get(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss), 404, "not-found"
    )
    assert api.client.delete(f"/v1/tenants/{tenant['id']}", headers=api.admin).status_code == 204


def test_reconcile_marks_missing_and_adopts_orphans(api: Api, keystone_pools: list[Any]) -> None:
    pool = keystone_pools[0]
    register(api, pool)
    gone, boss_gone = api.new_tenant()
    lost, boss_lost = api.new_tenant()
    m_gone = api.client.put(f"/v1/tenants/{gone['id']}/mappings/alpha", headers=boss_gone).json()
    m_lost = api.client.put(f"/v1/tenants/{lost['id']}/mappings/alpha", headers=boss_lost).json()
    admin_conn(pool).identity.delete_project(m_gone["remote_id"])
    with api.sessions() as db:
        db.execute(text("DELETE FROM mapping WHERE id = :id"), {"id": m_lost["id"]})
        db.commit()
    job = api.client.post("/v1/pools/alpha/reconcile", headers=api.admin).json()
    assert run_jobs(api) == 1
    report = api.client.get(f"/v1/jobs/{job['id']}", headers=api.admin).json()
    assert report["state"] == "succeeded", report
    result = report["result"]
    assert [x["tenant_id"] for x in result["missing"]] == [gone["id"]]
    assert [x["project_id"] for x in result["adopted"]] == [m_lost["remote_id"]]
    shown = api.client.get(f"/v1/tenants/{gone['id']}/mappings/alpha", headers=boss_gone).json()
    assert shown["state"] == "failed" and shown["missing_since"]
    # ensure repairs the missing one with a new project
    fixed = api.client.put(f"/v1/tenants/{gone['id']}/mappings/alpha", headers=boss_gone).json()
    assert fixed["state"] == "active" and fixed["remote_id"] != m_gone["remote_id"]
    assert len(projects_of(pool, gone["id"])) == 1


def test_mapping_bad_input(api: Api, keystone_pools: list[Any]) -> None:
    register(api, keystone_pools[0])
    tenant, boss = api.new_tenant()
    url = f"/v1/tenants/{tenant['id']}/mappings"
    assert_problem(api.client.put(f"{url}/nope", headers=boss), 404, "not-found")
    assert_problem(
        api.client.put("/v1/tenants/nope/mappings/alpha", headers=api.admin), 404, "not-found"
    )
    r = api.client.post(
        f"/v1/tenants/{tenant['id']}/users",
        headers=boss,
        json={"username": "ann", "password": "ann-password"},
    )
    assert r.status_code == 201
    ann = api.login(tenant["name"], "ann", "ann-password")
    assert_problem(api.client.put(f"{url}/alpha", headers=ann), 403, "forbidden")
    api.client.patch("/v1/pools/alpha", headers=api.admin, json={"is_enabled": False})
    assert_problem(api.client.put(f"{url}/alpha", headers=boss), 503, "pool-unavailable")
    with api.sessions() as db:
        assert db.execute(text("SELECT count(*) FROM mapping")).scalar_one() == 0
