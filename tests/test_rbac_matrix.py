"""RBAC matrix generated from the OpenAPI spec: every operation × {anonymous, platform
admin, tenant A admin, tenant A member, tenant B admin}, against the real API, the real
database and a real Keystone pool.

``EXPECTED`` writes down the status of every cell. An operation missing from it fails the
test, so a new route forces a decision. Path values point at tenant A's real objects (its
id, a user of its own, the pool it is mapped in); resource and job ids are unknown ids.
Bodies are harmless: ``{}`` for PATCH (a no-op), valid creates where authorisation is
decided after the body is read, ``{}`` elsewhere (422 once the caller may call at all).
Deletes run last, in the order of the table, platform admin last.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, pool_body

pytestmark = pytest.mark.keystone

#: The cells that differ when kp's cloud runs Neutron: the tenants' creates succeed, so
#: leaving the pool finds objects left (409, purge needed).
WITH_NEUTRON: dict[str, tuple[int, int, int, int, int]] = {
    "POST /v1/networks": (401, 201, 201, 201, 403),
    "POST /v1/floating-ips": (401, 201, 201, 201, 403),
    "DELETE /v1/tenants/{tenant_id}/mappings/{pool}": (401, 404, 403, 409, 409),
}
ROLES = ("anonymous", "tenant_b_admin", "tenant_a_member", "tenant_a_admin", "platform_admin")
UNKNOWN = "00000000-0000-4000-8000-000000000000"

# operation: statuses for (anonymous, tenant B admin, tenant A member, tenant A admin,
# platform admin)
EXPECTED: dict[str, tuple[int, int, int, int, int]] = {
    "POST /v1/auth/tokens": (422, 422, 422, 422, 422),
    "GET /v1/auth/tokens": (401, 200, 200, 200, 200),
    "POST /v1/tenants": (401, 403, 403, 403, 201),
    "GET /v1/tenants": (401, 403, 403, 403, 200),
    "GET /v1/tenants/{tenant_id}": (401, 404, 200, 200, 200),
    "PATCH /v1/tenants/{tenant_id}": (401, 403, 403, 403, 200),
    "POST /v1/tenants/{tenant_id}/users": (401, 404, 403, 201, 201),
    "GET /v1/tenants/{tenant_id}/users": (401, 404, 200, 200, 200),
    "GET /v1/tenants/{tenant_id}/users/{user_id}": (401, 404, 200, 200, 200),
    "PATCH /v1/tenants/{tenant_id}/users/{user_id}": (401, 404, 403, 200, 200),
    "POST /v1/pools": (401, 403, 403, 403, 422),
    "GET /v1/pools": (401, 200, 200, 200, 200),
    "GET /v1/pools/{pool}": (401, 200, 200, 200, 200),
    "PATCH /v1/pools/{pool}": (401, 403, 403, 403, 200),
    "POST /v1/pools/{pool}/check": (401, 403, 403, 403, 200),
    "POST /v1/pools/{pool}/reconcile": (401, 403, 403, 403, 202),
    "GET /v1/tenants/{tenant_id}/mappings": (401, 404, 200, 200, 200),
    "GET /v1/tenants/{tenant_id}/mappings/{pool}": (401, 404, 200, 200, 200),
    "PUT /v1/tenants/{tenant_id}/mappings/{pool}": (401, 404, 403, 200, 200),
    "GET /v1/tenants/{tenant_id}/quotas": (401, 404, 200, 200, 200),
    "PUT /v1/tenants/{tenant_id}/quotas": (401, 403, 403, 403, 200),
    "PUT /v1/tenants/{tenant_id}/quotas/{pool}": (401, 403, 403, 403, 200),
    "GET /v1/jobs": (401, 200, 200, 200, 200),
    "GET /v1/jobs/{job_id}": (401, 404, 404, 404, 404),
    "POST /v1/jobs/{job_id}/retry": (401, 404, 404, 404, 404),
    "POST /v1/tenants/{tenant_id}/mappings/{pool}/rotate": (401, 404, 403, 200, 200),
    "POST /v1/api-keys": (401, 422, 422, 422, 422),  # every user may; {} lacks a name
    "GET /v1/api-keys": (401, 200, 200, 200, 200),
    "GET /v1/api-keys/{key}": (401, 404, 404, 404, 404),
    "GET /v1/audit": (401, 200, 403, 200, 200),
    "POST /v1/servers": (401, 422, 422, 422, 422),
    "GET /v1/servers": (401, 200, 200, 200, 403),
    "GET /v1/servers/{record_id}": (401, 404, 404, 404, 403),
    "POST /v1/servers/{record_id}/action": (401, 422, 422, 422, 422),
    "POST /v1/networks": (401, 422, 422, 422, 403),
    "GET /v1/networks": (401, 200, 200, 200, 403),
    "GET /v1/networks/{record_id}": (401, 404, 404, 404, 403),
    "POST /v1/subnets": (401, 422, 422, 422, 422),
    "GET /v1/subnets": (401, 200, 200, 200, 403),
    "GET /v1/subnets/{record_id}": (401, 404, 404, 404, 403),
    "POST /v1/routers": (401, 422, 422, 422, 422),
    "GET /v1/routers": (401, 200, 200, 200, 403),
    "GET /v1/routers/{record_id}": (401, 404, 404, 404, 403),
    "POST /v1/routers/{record_id}/action": (401, 422, 422, 422, 422),
    "POST /v1/floating-ips": (401, 503, 503, 503, 403),  # kp has no Neutron
    "GET /v1/floating-ips": (401, 200, 200, 200, 403),
    "GET /v1/floating-ips/{record_id}": (401, 404, 404, 404, 403),
    "POST /v1/floating-ips/{record_id}/action": (401, 422, 422, 422, 422),
    "POST /v1/volumes": (401, 422, 422, 422, 422),
    "GET /v1/volumes": (401, 200, 200, 200, 403),
    "GET /v1/volumes/{record_id}": (401, 404, 404, 404, 403),
    "POST /v1/volumes/{record_id}/action": (401, 422, 422, 422, 422),
    "GET /v1/flavors": (401, 200, 200, 200, 200),
    "GET /v1/images": (401, 200, 200, 200, 200),
    "GET /healthz": (200, 200, 200, 200, 200),
    "GET /metrics": (401, 403, 403, 403, 200),
    # deletes, last
    "DELETE /v1/auth/tokens": (401, 204, 204, 204, 204),
    "DELETE /v1/api-keys/{key}": (401, 404, 404, 404, 404),
    "DELETE /v1/servers/{record_id}": (401, 404, 404, 404, 403),
    "DELETE /v1/networks/{record_id}": (401, 404, 404, 404, 403),
    "DELETE /v1/subnets/{record_id}": (401, 404, 404, 404, 403),
    "DELETE /v1/routers/{record_id}": (401, 404, 404, 404, 403),
    "DELETE /v1/floating-ips/{record_id}": (401, 404, 404, 404, 403),
    "DELETE /v1/volumes/{record_id}": (401, 404, 404, 404, 403),
    "DELETE /v1/tenants/{tenant_id}/users/{user_id}": (401, 404, 403, 204, 404),
    "DELETE /v1/tenants/{tenant_id}/mappings/{pool}": (401, 404, 403, 202, 202),
    "DELETE /v1/pools/{pool}": (401, 403, 403, 403, 409),
    "DELETE /v1/tenants/{tenant_id}": (401, 403, 403, 403, 409),
}


def operations(api: Api) -> list[str]:
    spec: dict[str, Any] = api.client.app.openapi()
    return [f"{m.upper()} {path}" for path, ops in spec["paths"].items() for m in ops]


def body_for(op: str, role: str) -> dict[str, Any] | None:
    method, path = op.split(" ", 1)
    if path == "/v1/tenants" and method == "POST":
        return {
            "name": f"probe-{role}".replace("_", "-"),
            "admin": {"username": "a", "password": "12345678"},
        }
    if path.endswith("/users") and method == "POST":
        return {"username": f"probe-{role}", "password": "probe-password"}
    if path == "/v1/networks" and method == "POST":
        return {"name": "probe", "pool": "kp"}
    if "/quotas" in path and method == "PUT":
        return {}  # no limits: a no-op for a tenant without any
    return {} if method in ("POST", "PATCH") else None


def test_rbac_matrix(api: Api, keystone_pools: list[Any]) -> None:
    assert (
        api.client.post(
            "/v1/pools", headers=api.admin, json=pool_body(keystone_pools[0], "kp")
        ).status_code
        == 201
    )
    tenant_a, a_admin = api.new_tenant("tenant-a")
    _, b_admin = api.new_tenant("tenant-b")
    users = f"/v1/tenants/{tenant_a['id']}/users"
    for name in ("member", "victim"):
        r = api.client.post(
            users, headers=a_admin, json={"username": name, "password": "member-password"}
        )
        assert r.status_code == 201, r.text
    victim = api.client.get(users, headers=a_admin).json()["items"]
    victim_id = next(u["id"] for u in victim if u["username"] == "victim")
    a_member = api.login("tenant-a", "member", "member-password")
    r = api.client.put(f"/v1/tenants/{tenant_a['id']}/mappings/kp", headers=a_admin)
    assert r.status_code in (200, 201), r.text
    headers = {
        "anonymous": {},
        "platform_admin": api.admin,
        "tenant_a_admin": a_admin,
        "tenant_a_member": a_member,
        "tenant_b_admin": b_admin,
    }
    values = {
        "tenant_id": tenant_a["id"],
        "user_id": victim_id,
        "pool": "kp",
        "job_id": UNKNOWN,
        "record_id": UNKNOWN,
        "key": UNKNOWN,
    }

    spec_ops = operations(api)
    missing = sorted(set(spec_ops) - set(EXPECTED))
    assert not missing, f"decide the expected statuses of new operations: {missing}"
    assert not set(EXPECTED) - set(spec_ops), "EXPECTED names operations the API no longer has"

    got: dict[str, tuple[int, ...]] = {}
    for op in EXPECTED:  # the table's order: deletes last
        method, template = op.split(" ", 1)
        path = template.format(**values)
        row = []
        for role in ROLES:
            h = dict(headers[role])
            if op == "DELETE /v1/auth/tokens" and role != "anonymous":  # logout a fresh token
                h = fresh_token(api, role, tenant_a)
            r = api.client.request(method, path, headers=h, json=body_for(op, role))
            assert r.status_code != 500, f"{op} as {role}: {r.text}"
            row.append(r.status_code)
        got[op] = tuple(row)
    expected = {**EXPECTED}
    if "network" in api.client.get("/v1/pools/kp", headers=api.admin).json()["services"]:
        expected.update(WITH_NEUTRON)  # a test bed whose first pool is a full cloud
    wrong = {op: (expected[op], got[op]) for op in EXPECTED if expected[op] != got[op]}
    assert not wrong, "cells that differ (expected, got): " + "\n".join(
        f"{op}: {v}" for op, v in wrong.items()
    )
    cells = len(EXPECTED) * len(ROLES)
    print(f"RBAC matrix: {len(EXPECTED)} operations x {len(ROLES)} roles = {cells} cells")


def fresh_token(api: Api, role: str, tenant_a: dict[str, Any]) -> dict[str, str]:
    from tests.conftest import ADMIN_PASSWORD

    return {
        "platform_admin": lambda: api.login(None, "root", ADMIN_PASSWORD),
        "tenant_a_admin": lambda: api.login("tenant-a", "boss", "boss-password"),
        "tenant_a_member": lambda: api.login("tenant-a", "member", "member-password"),
        "tenant_b_admin": lambda: api.login("tenant-b", "boss", "boss-password"),
    }[role]()
