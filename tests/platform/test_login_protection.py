"""Login protection through the real API and database: lockouts per user and per address
with backoff, bounded password checks, failed logins audited, body and depth limits."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tenantfusion.config import Settings
from tests.conftest import ADMIN_PASSWORD, Api, make_api, make_settings
from tests.platform.test_views import assert_problem


@pytest.fixture
def quick_api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    """The API with a 1 s first lockout (doubling), so backoff is observable quickly."""
    from tests.conftest import _truncate

    yield from make_api(make_settings(database_url, tmp_path, login_lockout_seconds=1.0))
    _truncate(database_url)


def login(api: Api, username: str, password: str, tenant: str | None = None) -> object:
    body = {"username": username, "password": password}
    if tenant:
        body["tenant"] = tenant
    return api.client.post("/v1/auth/tokens", json=body)


def test_five_failures_lock_the_user_even_for_the_right_password(quick_api: Api) -> None:
    tenant, _ = quick_api.new_tenant()
    for _ in range(5):
        assert_problem(
            login(quick_api, "boss", "wrong-password", tenant["name"]), 401, "not-authenticated"
        )
    r = login(quick_api, "boss", "boss-password", tenant["name"])
    body = assert_problem(r, 429, "too-many-attempts")
    assert int(r.headers["Retry-After"]) >= 1 and body["retry_after"] >= 1
    # another user from elsewhere is not locked: the platform admin still logs in
    time.sleep(1.1)
    assert login(quick_api, "boss", "boss-password", tenant["name"]).status_code == 201


def test_lockout_backs_off(quick_api: Api) -> None:
    tenant, _ = quick_api.new_tenant()
    waits = []
    for _ in range(3):
        for _ in range(5 if not waits else 1):
            login(quick_api, "boss", "wrong-password", tenant["name"])
        r = login(quick_api, "boss", "boss-password", tenant["name"])
        assert r.status_code == 429, r.text
        waits.append(int(r.headers["Retry-After"]))
        time.sleep(waits[-1] + 0.1)
    assert waits == [1, 2, 4]


def test_many_usernames_from_one_address_lock_the_address(quick_api: Api) -> None:
    for i in range(5):
        assert login(quick_api, f"guess-{i}", "wrong-password").status_code == 401
    # a user never tried before, from the same address
    assert_problem(login(quick_api, "root", ADMIN_PASSWORD), 429, "too-many-attempts")


def test_failed_login_is_audited_without_the_password(api: Api) -> None:
    tenant, _ = api.new_tenant()
    secret = "Hunter2-not-the-password"
    login(api, "boss", secret, tenant["name"])
    events = api.client.get("/v1/audit?action=api.create_token", headers=api.admin).json()["items"]
    failed = [e for e in events if e["result"] == "denied"]
    assert failed and failed[0]["detail"]["username"] == "boss"
    assert failed[0]["error_type"] == "not-authenticated" and failed[0]["request_id"]
    with api.sessions() as db:
        dump = json.dumps(
            [list(r) for r in db.execute(text("SELECT * FROM audit_event"))], default=str
        )
    assert secret not in dump


def test_password_checks_are_bounded(sqlite_settings: Settings, tmp_path: Path) -> None:
    settings = make_settings(
        sqlite_settings.database_url, tmp_path, login_concurrency=1, login_max_failures=1000
    )
    api = next(make_api(settings))
    codes: list[int] = []

    def guess(i: int) -> None:
        codes.append(login(api, f"user-{i}", "wrong-password").status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(codes) <= {401, 503} and 503 in codes, codes
    r = login(api, "root", ADMIN_PASSWORD)
    assert r.status_code == 201


def test_body_size_limit_on_every_route(sqlite_api: Api) -> None:
    big = b'{"username": "' + b"a" * (2 * 1024 * 1024) + b'", "password": "x"}'
    r = sqlite_api.client.post(
        "/v1/auth/tokens", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(r, 413, "body-too-large")
    r = sqlite_api.client.post(
        "/v1/tenants", content=big, headers={**sqlite_api.admin, "content-type": "application/json"}
    )
    assert_problem(r, 413, "body-too-large")

    def chunks() -> Iterator[bytes]:  # streamed, no Content-Length
        for _ in range(40):
            yield b" " * 65536

    r = sqlite_api.client.post(
        "/v1/auth/tokens", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(r, 413, "body-too-large")


def test_deep_json_is_refused_not_crashed(sqlite_api: Api) -> None:
    deep = "[" * 5000 + "]" * 5000
    r = sqlite_api.client.post(
        "/v1/tenants",
        content=deep,
        headers={**sqlite_api.admin, "content-type": "application/json"},
    )
    assert_problem(r, 422, "invalid-input")
    # brackets inside strings do not count
    r = sqlite_api.client.post(
        "/v1/auth/tokens", json={"username": "[" * 60, "password": "{" * 100}
    )
    assert_problem(r, 401, "not-authenticated")


def test_security_headers_and_request_id(sqlite_api: Api) -> None:
    r = sqlite_api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["x-request-id"] == "abc-123" and "strict-transport-security" not in r.headers
    docs = sqlite_api.client.get("/docs")
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    for bad in (b"\xff\xfe", b"x" * 500, b"a b"):
        r = sqlite_api.client.get("/healthz", headers={"X-Request-ID": bad})  # type: ignore[dict-item]
        assert r.status_code == 200 and len(r.headers["x-request-id"]) == 32
    https = sqlite_api.client.get("https://testserver/healthz")
    assert https.headers["strict-transport-security"].startswith("max-age=")
