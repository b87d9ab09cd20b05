"""Shared fixtures: a migrated database per backend, settings, an API client, real pools."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.api import create_app
from tenantfusion.apikeys.nonces_sqlite import nonce_path
from tenantfusion.audit.chain import GENESIS
from tenantfusion.config import Settings
from tenantfusion.db import Base, engine_for, session_factory, upgrade
from tenantfusion.platform import service as platform_service

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_DSN = os.environ.get(
    "TENANTFUSION_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_KEY = Fernet.generate_key().decode()
ADMIN_PASSWORD = "admin-password-1"


def _pg_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}"


def _drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database on each backend (SQLite file, and the machine's PostgreSQL)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'tf.db'}"
        name = None
    else:
        name = f"tf_test_{uuid.uuid4().hex[:8]}"
        url = _pg_database(name)
    upgrade(Settings(database_url=url, secret_key=TEST_KEY))  # type: ignore[arg-type]
    yield url
    engine_for(url).dispose()
    if name:
        _drop_pg_database(name)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database for tests that don't exercise the store itself."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db-sqlite') / 'tf.db'}"
    upgrade(Settings(database_url=url, secret_key=TEST_KEY))  # type: ignore[arg-type]
    return url


def _truncate(url: str) -> None:
    keep = {"installation", "alembic_version", "audit_head", "cache_epoch"}
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in keep]
    with engine_for(url).begin() as conn:
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table.name}"'))
        conn.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": GENESIS})
    nonces = nonce_path(engine_for(url))  # SQLite keeps used nonces in their own file
    if nonces is not None and nonces.exists():
        with closing(sqlite3.connect(nonces)) as db:
            db.execute("DELETE FROM signature_nonce")
            db.commit()


def make_settings(url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": url,
        "data_dir": tmp_path,
        "secret_key": TEST_KEY,
        "run_worker": False,
        "pool_timeout_seconds": 5.0,
        "ensure_wait_seconds": 120.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings on each backend; tables emptied after the test."""
    yield make_settings(database_url, tmp_path)
    _truncate(database_url)


@pytest.fixture
def sqlite_settings(sqlite_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings on SQLite only; tables emptied after the test."""
    yield make_settings(sqlite_url, tmp_path)
    _truncate(sqlite_url)


@pytest.fixture
def sessions(settings: Settings) -> sessionmaker[Session]:
    return session_factory(settings)


class Api:
    """A TestClient with helpers for logging in."""

    def __init__(self, client: TestClient, sessions: sessionmaker[Session]) -> None:
        self.client = client
        self.sessions = sessions
        with sessions() as db:
            platform_service.create_platform_admin(db=db, username="root", password=ADMIN_PASSWORD)
            db.commit()
        self.admin = self.login(None, "root", ADMIN_PASSWORD)

    def login(self, tenant: str | None, username: str, password: str) -> dict[str, str]:
        body = {"username": username, "password": password}
        if tenant:
            body["tenant"] = tenant
        r = self.client.post("/v1/auth/tokens", json=body)
        assert r.status_code == 201, r.text
        return {"X-Auth-Token": r.json()["token"]}

    def new_tenant(self, name: str | None = None) -> tuple[dict[str, object], dict[str, str]]:
        name = name or f"t-{uuid.uuid4().hex[:8]}"
        r = self.client.post(
            "/v1/tenants",
            headers=self.admin,
            json={"name": name, "admin": {"username": "boss", "password": "boss-password"}},
        )
        assert r.status_code == 201, r.text
        return r.json(), self.login(name, "boss", "boss-password")


def make_api(settings: Settings) -> Iterator[Api]:
    app = create_app(settings, run_worker=False)
    with TestClient(app) as client:
        yield Api(client, session_factory(settings))


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    """The API on each backend, with a platform admin logged in."""
    yield from make_api(settings)


@pytest.fixture
def sqlite_api(sqlite_settings: Settings) -> Iterator[Api]:
    """The API on SQLite, with a platform admin logged in."""
    yield from make_api(sqlite_settings)


# ---- real pools -------------------------------------------------------------------------------
TESTBED_ROOT = Path(os.environ.get("TENANTFUSION_TESTBED_ROOT", ROOT / "var" / "testbed"))


@pytest.fixture(scope="session")
def keystone_pools() -> list[Any]:
    """Two real Keystone pools on loopback, started (or reused) by the project's test bed."""
    from tenantfusion.testbed import ensure_pools

    return list(ensure_pools(count=2, kind="keystone", root=TESTBED_ROOT))


def admin_conn(pool: Any) -> Any:
    """An openstacksdk connection as the pool's own admin: the witness of what really exists."""
    import openstack

    return openstack.connection.Connection(
        auth_url=pool.auth_url,
        username=pool.username,
        password=pool.password,
        project_name=pool.project_name,
        user_domain_name=pool.user_domain_name,
        project_domain_name=pool.project_domain_name,
        region_name=pool.region_name,
    )


def pool_body(pool: Any, name: str, **overrides: Any) -> dict[str, Any]:
    """The POST /v1/pools body for a test-bed pool."""
    body: dict[str, Any] = {
        "name": name,
        "driver": "openstack",
        "region_name": pool.region_name,
        "auth": {
            "auth_url": pool.auth_url,
            "username": pool.username,
            "password": pool.password,
            "project_name": pool.project_name,
            "user_domain_name": pool.user_domain_name,
            "project_domain_name": pool.project_domain_name,
        },
    }
    body.update(overrides)
    return body
