"""Pool registry against real Keystone pools: verify before storing, fail cleanly."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import Api, admin_conn, pool_body
from tests.platform.test_views import assert_problem

pytestmark = pytest.mark.keystone


def stored_pools(api: Api) -> int:
    with api.sessions() as db:
        return db.execute(text("SELECT count(*) FROM pool")).scalar_one()


def test_register_pool_verifies_and_encrypts(api: Api, keystone_pools: list[Any]) -> None:
    pool = keystone_pools[0]
    r = api.client.post("/v1/pools", headers=api.admin, json=pool_body(pool, "alpha"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "ok" and "identity" in body["services"]
    assert pool.password not in r.text
    with api.sessions() as db:
        row = db.execute(text("SELECT credential FROM pool")).scalar_one()
    assert pool.password not in row and row.startswith("gAAAA")
    assert_problem(
        api.client.post("/v1/pools", headers=api.admin, json=pool_body(pool, "alpha")),
        409,
        "conflict",
    )
    listed = api.client.get("/v1/pools", headers=api.admin).json()["items"]
    assert [p["name"] for p in listed] == ["alpha"]


def test_pool_list_is_keyset_paginated(api: Api, keystone_pools: list[Any]) -> None:
    for name, pool in (("gamma", keystone_pools[0]), ("alpha", keystone_pools[0])):
        r = api.client.post("/v1/pools", headers=api.admin, json=pool_body(pool, name))
        assert r.status_code == 201, r.text
    r = api.client.post("/v1/pools", headers=api.admin, json=pool_body(keystone_pools[1], "beta"))
    assert r.status_code == 201, r.text
    first = api.client.get("/v1/pools", headers=api.admin, params={"limit": 2}).json()
    assert [p["name"] for p in first["items"]] == ["alpha", "beta"]
    assert first["next_marker"] == "beta"
    params = {"limit": 2, "marker": first["next_marker"]}
    rest = api.client.get("/v1/pools", headers=api.admin, params=params).json()
    assert [p["name"] for p in rest["items"]] == ["gamma"] and rest["next_marker"] is None
    everything = api.client.get("/v1/pools", headers=api.admin).json()
    assert len(everything["items"]) == 3 and everything["next_marker"] is None
    assert_problem(
        api.client.get("/v1/pools", headers=api.admin, params={"limit": 0}), 422, "invalid-input"
    )


def test_wrong_password_is_422_and_stores_nothing(api: Api, keystone_pools: list[Any]) -> None:
    body = pool_body(keystone_pools[0], "alpha")
    body["auth"]["password"] = "definitely-wrong"
    r = api.client.post("/v1/pools", headers=api.admin, json=body)
    problem = assert_problem(r, 422, "pool-auth-failed")
    assert "definitely-wrong" not in r.text and problem["pool"] == "alpha"
    assert stored_pools(api) == 0


def test_unreachable_pool_is_502(api: Api) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    body = {
        "name": "gone",
        "auth": {"auth_url": f"http://127.0.0.1:{port}/v3", "username": "admin", "password": "x"},
    }
    assert_problem(
        api.client.post("/v1/pools", headers=api.admin, json=body), 502, "pool-unreachable"
    )
    assert stored_pools(api) == 0


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: the worst kind of unreachable."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_silent_pool_times_out_within_bound(api: Api, silent_server: int) -> None:
    body = {
        "name": "silent",
        "auth": {
            "auth_url": f"http://127.0.0.1:{silent_server}/v3",
            "username": "admin",
            "password": "x",
        },
    }
    started = time.monotonic()
    r = api.client.post("/v1/pools", headers=api.admin, json=body)
    elapsed = time.monotonic() - started
    assert_problem(r, 502, "pool-unreachable")
    # pool_timeout_seconds is 5 in tests; keystoneauth may retry once on connect errors
    assert elapsed < 12, elapsed
    assert stored_pools(api) == 0


@pytest.fixture
def member_only_user(keystone_pools: list[Any]) -> Iterator[tuple[str, str]]:
    conn = admin_conn(keystone_pools[0])
    name, password = f"tf-test-member-{uuid.uuid4().hex[:6]}", "member-password-1"
    project = conn.identity.find_project("admin")
    user = conn.identity.create_user(
        name=name, password=password, domain_id="default", default_project_id=project.id
    )
    role = conn.identity.find_role("member")
    conn.identity.assign_project_role_to_user(project, user, role)
    yield name, password
    conn.identity.delete_user(user, ignore_missing=True)


def test_credential_without_admin_is_422(
    api: Api, keystone_pools: list[Any], member_only_user: tuple[str, str]
) -> None:
    body = pool_body(keystone_pools[0], "alpha")
    body["auth"]["username"], body["auth"]["password"] = member_only_user
    assert_problem(
        api.client.post("/v1/pools", headers=api.admin, json=body), 422, "pool-not-admin"
    )
    assert stored_pools(api) == 0


def test_tenant_users_cannot_register_and_unknown_driver(
    api: Api, keystone_pools: list[Any]
) -> None:
    _, boss = api.new_tenant()
    body = pool_body(keystone_pools[0], "alpha")
    assert_problem(api.client.post("/v1/pools", headers=boss, json=body), 403, "forbidden")
    body["driver"] = "cloudstack"
    assert_problem(api.client.post("/v1/pools", headers=api.admin, json=body), 422, "invalid-input")
    assert_problem(api.client.get("/v1/pools/nope", headers=api.admin), 404, "not-found")
    assert stored_pools(api) == 0


def test_health_check_reports_unreachable(api: Api, keystone_pools: list[Any]) -> None:
    pool = keystone_pools[0]
    assert (
        api.client.post("/v1/pools", headers=api.admin, json=pool_body(pool, "alpha")).status_code
        == 201
    )
    r = api.client.post("/v1/pools/alpha/check", headers=api.admin)
    assert r.json()["status"] == "ok"
    # point the stored pool at a dead port behind the registry's back, then re-check
    with api.sessions() as db:
        from tenantfusion.crypto import decrypt_json, encrypt_json

        cred = decrypt_json(
            db.execute(text("SELECT credential FROM pool")).scalar_one(),
            settings=api.client.app.state.settings,
        )
        cred["auth_url"] = "http://127.0.0.1:9/v3"
        db.execute(
            text("UPDATE pool SET credential = :c"),
            {"c": encrypt_json(cred, settings=api.client.app.state.settings)},
        )
        db.commit()
    r = api.client.post("/v1/pools/alpha/check", headers=api.admin)
    assert r.json()["status"] == "unreachable" and r.json()["status_reason"]
