"""Hostile input answers 4xx problem+json, never 500: nulls, unknown fields, forged
markers, bad request ids (depth and size limits: test_login_protection.py)."""

from __future__ import annotations

import base64
import json

from tests.conftest import Api
from tests.platform.test_views import assert_problem


def test_patch_with_null_is_refused(sqlite_api: Api) -> None:
    api = sqlite_api
    tenant, boss = api.new_tenant()
    for body in ({"name": None}, {"description": None}, {"is_enabled": None}):
        r = api.client.patch(f"/v1/tenants/{tenant['id']}", headers=api.admin, json=body)
        assert_problem(r, 422, "invalid-input")
    users = api.client.get(f"/v1/tenants/{tenant['id']}/users", headers=boss).json()["items"]
    r = api.client.patch(
        f"/v1/tenants/{tenant['id']}/users/{users[0]['id']}", headers=boss, json={"role": None}
    )
    assert_problem(r, 422, "invalid-input")
    for body in ({"is_enabled": None}, {"labels": None}, {"auth": None}):
        r = api.client.patch("/v1/pools/any", headers=api.admin, json=body)
        assert_problem(r, 422, "invalid-input")
    # null still clears where that is the meaning
    r = api.client.patch("/v1/pools/none-such", headers=api.admin, json={"region_name": None})
    assert_problem(r, 404, "not-found")


def test_unknown_fields_are_refused(sqlite_api: Api) -> None:
    r = sqlite_api.client.post(
        "/v1/auth/tokens", json={"username": "root", "password": "x", "is_admin": True}
    )
    assert_problem(r, 422, "invalid-input")
    r = sqlite_api.client.post(
        "/v1/tenants",
        headers=sqlite_api.admin,
        json={"name": "x", "admin": {"username": "a", "password": "12345678", "role": "x"}},
    )
    assert_problem(r, 422, "invalid-input")


def _marker(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_forged_markers_are_422(sqlite_api: Api) -> None:
    _, boss = sqlite_api.new_tenant()
    for marker in (
        _marker(["2024-01-01T00:00:00", "x"]),  # naive datetime
        _marker(["2024-01-01T00:00:00+00:00", 5]),  # id not a string
        _marker({"a": 1}),
        "%%%",
        _marker("[" * 3000),
    ):
        r = sqlite_api.client.get("/v1/servers", headers=boss, params={"marker": marker})
        assert_problem(r, 422, "invalid-input")
