"""Base layer through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import ADMIN_PASSWORD, Api

PROBLEM = "application/problem+json"


def assert_problem(r, status: int, type_: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"] == type_ and body["status"] == status and body["detail"]
    return body


def test_admin_login_returns_token_without_tenant(api: Api) -> None:
    r = api.client.post("/v1/auth/tokens", json={"username": "root", "password": ADMIN_PASSWORD})
    assert r.status_code == 201
    body = r.json()
    assert body["token"].startswith("tfp_") and body["tenant"] is None
    assert body["user"]["role"] == "platform_admin"


def test_wrong_password_and_unknown_user_look_the_same(api: Api) -> None:
    a = api.client.post("/v1/auth/tokens", json={"username": "root", "password": "nope-nope"})
    b = api.client.post("/v1/auth/tokens", json={"username": "ghost", "password": "nope-nope"})
    assert (
        assert_problem(a, 401, "not-authenticated")["detail"]
        == assert_problem(b, 401, "not-authenticated")["detail"]
    )


def test_no_token_401_and_bad_token_401(api: Api) -> None:
    assert_problem(api.client.get("/v1/tenants"), 401, "not-authenticated")
    assert_problem(
        api.client.get("/v1/tenants", headers={"X-Auth-Token": "tfp_forged"}),
        401,
        "not-authenticated",
    )


def test_tenant_lifecycle_and_duplicate_name(api: Api) -> None:
    tenant, boss = api.new_tenant("acme")
    r = api.client.post(
        "/v1/tenants",
        headers=api.admin,
        json={"name": "acme", "admin": {"username": "x", "password": "12345678"}},
    )
    assert_problem(r, 409, "conflict")
    listed = api.client.get("/v1/tenants", headers=api.admin).json()["items"]
    assert [t["name"] for t in listed] == ["acme"]
    # the tenant admin sees its tenant but cannot list all tenants (wrong role)
    assert api.client.get(f"/v1/tenants/{tenant['id']}", headers=boss).status_code == 200
    assert_problem(api.client.get("/v1/tenants", headers=boss), 403, "forbidden")


def test_invalid_body_names_the_field(api: Api) -> None:
    r = api.client.post("/v1/tenants", headers=api.admin, json={"name": "bad name!"})
    body = assert_problem(r, 422, "invalid-input")
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "admin"} <= fields


def test_unknown_ids_are_404(api: Api) -> None:
    assert_problem(api.client.get("/v1/tenants/nope", headers=api.admin), 404, "not-found")
    tenant, _ = api.new_tenant()
    r = api.client.get(f"/v1/tenants/{tenant['id']}/users/nope", headers=api.admin)
    assert_problem(r, 404, "not-found")


def test_other_tenant_is_invisible(api: Api) -> None:
    a, boss_a = api.new_tenant()
    b, _ = api.new_tenant()
    assert_problem(api.client.get(f"/v1/tenants/{b['id']}", headers=boss_a), 404, "not-found")
    assert_problem(api.client.get(f"/v1/tenants/{b['id']}/users", headers=boss_a), 404, "not-found")


def test_users_roles_and_member_cannot_manage(api: Api) -> None:
    tenant, boss = api.new_tenant()
    url = f"/v1/tenants/{tenant['id']}/users"
    r = api.client.post(url, headers=boss, json={"username": "ann", "password": "ann-password"})
    assert r.status_code == 201 and r.json()["role"] == "member"
    ann = api.login(tenant["name"], "ann", "ann-password")
    assert_problem(
        api.client.post(url, headers=ann, json={"username": "bob", "password": "bob-password"}),
        403,
        "forbidden",
    )
    assert_problem(
        api.client.post(url, headers=boss, json={"username": "ann", "password": "other-pass"}),
        409,
        "conflict",
    )
    r = api.client.post(
        url,
        headers=boss,
        json={"username": "eve", "password": "eve-password", "role": "platform_admin"},
    )
    assert_problem(r, 422, "invalid-input")


def test_last_tenant_admin_is_kept(api: Api) -> None:
    tenant, boss = api.new_tenant()
    users = api.client.get(f"/v1/tenants/{tenant['id']}/users", headers=boss).json()["items"]
    boss_id = users[0]["id"]
    base = f"/v1/tenants/{tenant['id']}/users/{boss_id}"
    assert_problem(
        api.client.patch(base, headers=api.admin, json={"role": "member"}), 409, "last-tenant-admin"
    )
    assert_problem(
        api.client.patch(base, headers=api.admin, json={"is_enabled": False}),
        409,
        "last-tenant-admin",
    )
    assert_problem(api.client.delete(base, headers=api.admin), 409, "last-tenant-admin")
    # with a second admin, the first may step down
    r = api.client.post(
        f"/v1/tenants/{tenant['id']}/users",
        headers=boss,
        json={"username": "deputy", "password": "deputy-pass", "role": "tenant_admin"},
    )
    assert r.status_code == 201
    assert api.client.patch(base, headers=api.admin, json={"role": "member"}).status_code == 200


def test_disabling_user_or_tenant_revokes_tokens(api: Api) -> None:
    tenant, boss = api.new_tenant()
    url = f"/v1/tenants/{tenant['id']}/users"
    ann_id = api.client.post(
        url, headers=boss, json={"username": "ann", "password": "ann-password"}
    ).json()["id"]
    ann = api.login(tenant["name"], "ann", "ann-password")
    assert api.client.get("/v1/auth/tokens", headers=ann).status_code == 200
    assert (
        api.client.patch(f"{url}/{ann_id}", headers=boss, json={"is_enabled": False}).status_code
        == 200
    )
    assert_problem(api.client.get("/v1/auth/tokens", headers=ann), 401, "not-authenticated")
    # re-enabling does not resurrect the revoked token
    api.client.patch(f"{url}/{ann_id}", headers=boss, json={"is_enabled": True})
    assert_problem(api.client.get("/v1/auth/tokens", headers=ann), 401, "not-authenticated")
    # disabling the tenant revokes the tenant admin's token and blocks new logins
    assert (
        api.client.patch(
            f"/v1/tenants/{tenant['id']}", headers=api.admin, json={"is_enabled": False}
        ).status_code
        == 200
    )
    assert_problem(api.client.get("/v1/auth/tokens", headers=boss), 401, "not-authenticated")
    r = api.client.post(
        "/v1/auth/tokens",
        json={"tenant": tenant["name"], "username": "boss", "password": "boss-password"},
    )
    assert_problem(r, 401, "not-authenticated")


def test_logout_revokes_and_passwords_are_hashed(api: Api) -> None:
    tenant, boss = api.new_tenant()
    assert api.client.delete("/v1/auth/tokens", headers=boss).status_code == 204
    assert_problem(api.client.get("/v1/auth/tokens", headers=boss), 401, "not-authenticated")
    with api.sessions() as db:
        hashes = db.execute(text('SELECT password_hash FROM "user"')).scalars().all()
        digests = db.execute(text("SELECT digest FROM token")).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert all("boss-password" not in h for h in hashes)
    assert boss["X-Auth-Token"] not in digests and len(digests[0]) == 64


def test_delete_tenant_and_audit(api: Api) -> None:
    tenant, _ = api.new_tenant()
    assert api.client.delete(f"/v1/tenants/{tenant['id']}", headers=api.admin).status_code == 204
    assert_problem(
        api.client.get(f"/v1/tenants/{tenant['id']}", headers=api.admin), 404, "not-found"
    )
    actions = [e["action"] for e in api.client.get("/v1/audit", headers=api.admin).json()["items"]]
    assert "tenant.create" in actions and "tenant.delete" in actions


def test_healthz_and_metrics(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    api.client.get("/v1/tenants", headers=api.admin)
    assert_problem(api.client.get("/metrics"), 401, "not-authenticated")
    _, boss = api.new_tenant()
    assert_problem(api.client.get("/metrics", headers=boss), 403, "forbidden")
    metrics = api.client.get("/metrics", headers=api.admin).text
    assert (
        'tenantfusion_http_requests_total{method="GET",route="list_tenants",status="200"}'
        in metrics
    )
