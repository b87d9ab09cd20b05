"""Two `tenantfusion serve` replicas on one PostgreSQL database: a replica keeps a checked
token past the half second it used to (its epoch unchanged: no database check), and a
logout, a disabled user or a disabled tenant made through the *other* replica ends it
within a second (the epoch moved, the watcher saw it)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import httpx
import pytest

from tenantfusion.config import Settings
from tenantfusion.db import engine_for, session_factory, upgrade
from tenantfusion.platform import service as platform_service
from tests.conftest import ADMIN_PASSWORD, TEST_KEY, _drop_pg_database, _pg_database
from tests.live import free_port, serve_env, serving

pytestmark = [pytest.mark.postgres]

#: How soon a change made on one replica must be seen on the other (the watcher polls
#: every 0.5 s; the rest is a loaded 2-core machine's slack).
SEEN_WITHIN = 1.5


@dataclass
class Pair:
    a: str
    b: str
    admin: dict[str, str]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    folder = tmp_path_factory.mktemp("coherence")
    name = f"tf_coh_{uuid.uuid4().hex[:8]}"
    url = _pg_database(name)
    try:
        upgrade(Settings(database_url=url, secret_key=TEST_KEY))  # type: ignore[arg-type]
        with session_factory(Settings(database_url=url, secret_key=TEST_KEY))() as db:  # type: ignore[arg-type]
            platform_service.create_platform_admin(db=db, username="root", password=ADMIN_PASSWORD)
            db.commit()
        env = serve_env(database_url=url, data_dir=folder, key=TEST_KEY)
        with ExitStack() as stack:
            a, b = (
                stack.enter_context(serving(env, port=free_port(), log=folder / f"{n}.log"))
                for n in "ab"
            )
            r = httpx.post(
                f"{a}/v1/auth/tokens", json={"username": "root", "password": ADMIN_PASSWORD}
            )
            yield Pair(a=a, b=b, admin={"X-Auth-Token": r.json()["token"]})
    finally:
        engine_for(url).dispose()
        _drop_pg_database(name)


def _tenant(pair: Pair, name: str) -> tuple[str, str]:
    """A tenant (id) and a token of its admin, logged in on replica a."""
    body = {"name": name, "admin": {"username": "boss", "password": "boss-password"}}
    r = httpx.post(f"{pair.b}/v1/tenants", headers=pair.admin, json=body)
    assert r.status_code == 201, r.text
    login = {"tenant": name, "username": "boss", "password": "boss-password"}
    r = httpx.post(f"{pair.a}/v1/auth/tokens", json=login)
    assert r.status_code == 201, r.text
    return r.json()["tenant"]["id"], r.json()["token"]


def _misses(pair: Pair) -> float:
    text = httpx.get(f"{pair.a}/metrics", headers=pair.admin).text
    found = re.search(r'^tenantfusion_token_cache_total\{result="miss"\} ([0-9.e+]+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def _me(url: str, token: str) -> int:
    return httpx.get(f"{url}/v1/auth/tokens", headers={"X-Auth-Token": token}).status_code


def _refused_after(url: str, token: str) -> float:
    """Seconds until ``url`` refuses ``token`` (401), asked every 50 ms."""
    started = time.monotonic()
    while _me(url, token) == 200:
        assert time.monotonic() - started < 10, "never refused"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_checked_token_is_kept_while_nothing_changes(pair: Pair) -> None:
    _, token = _tenant(pair, "keep")
    assert _me(pair.a, token) == 200
    before = _misses(pair)
    for _ in range(6):  # each past the half second a token used to be kept
        time.sleep(0.6)
        assert _me(pair.a, token) == 200
    assert _misses(pair) - before <= 1  # the admin's own /metrics call may miss once


def test_a_logout_on_the_other_replica_ends_it_within_a_second(pair: Pair) -> None:
    _, token = _tenant(pair, "logout")
    assert _me(pair.a, token) == 200
    time.sleep(0.6)
    assert _me(pair.a, token) == 200  # kept
    r = httpx.delete(f"{pair.b}/v1/auth/tokens", headers={"X-Auth-Token": token})
    assert r.status_code == 204, r.text
    assert _refused_after(pair.a, token) < SEEN_WITHIN


def test_a_disabled_user_or_tenant_is_refused_within_a_second(pair: Pair) -> None:
    tenant_id, token = _tenant(pair, "gone")
    boss = {"X-Auth-Token": token}
    users = httpx.get(f"{pair.a}/v1/tenants/{tenant_id}/users", headers=boss).json()["items"]
    helper = {"username": "helper", "password": "helper-password", "role": "member"}
    r = httpx.post(f"{pair.a}/v1/tenants/{tenant_id}/users", headers=boss, json=helper)
    assert r.status_code == 201, r.text
    login = {"tenant": "gone", "username": "helper", "password": "helper-password"}
    member = httpx.post(f"{pair.a}/v1/auth/tokens", json=login).json()["token"]
    assert _me(pair.a, member) == 200 and _me(pair.a, token) == 200
    time.sleep(0.6)
    user_id = r.json()["id"]
    r = httpx.patch(
        f"{pair.b}/v1/tenants/{tenant_id}/users/{user_id}",
        headers=pair.admin,
        json={"is_enabled": False},
    )
    assert r.status_code == 200, r.text
    assert _refused_after(pair.a, member) < SEEN_WITHIN
    assert users and _me(pair.a, token) == 200  # the tenant admin is untouched
    r = httpx.patch(
        f"{pair.b}/v1/tenants/{tenant_id}", headers=pair.admin, json={"is_enabled": False}
    )
    assert r.status_code == 200, r.text
    assert _refused_after(pair.a, token) < SEEN_WITHIN
