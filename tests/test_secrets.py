"""Secrets never reach logs, error bodies or the database in plain text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from tenantfusion.client.signing import ApiKeyAuth
from tenantfusion.crypto import decrypt_json
from tenantfusion.db import Base
from tenantfusion.logging import configure
from tests.conftest import Api, pool_body

pytestmark = pytest.mark.keystone


def dump_database(api: Api) -> str:
    rows: list[Any] = []
    with api.sessions() as db:
        for table in Base.metadata.sorted_tables:
            rows.extend(tuple(r) for r in db.execute(text(f'SELECT * FROM "{table.name}"')))
    return json.dumps(rows, default=str)


def test_no_plain_secret_in_logs_errors_or_database(
    api: Api, keystone_pools: list[Any], capfd: pytest.CaptureFixture[str]
) -> None:
    configure("DEBUG")
    pool = keystone_pools[0]
    bad = pool_body(pool, "alpha")
    bad["auth"]["password"] = "wrong-but-secret-123"
    r = api.client.post("/v1/pools", headers=api.admin, json=bad)
    assert r.status_code == 422 and "wrong-but-secret-123" not in r.text
    assert (
        api.client.post("/v1/pools", headers=api.admin, json=pool_body(pool, "alpha")).status_code
        == 201
    )
    tenant, boss = api.new_tenant()
    m = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss)
    assert m.status_code == 201
    with api.sessions() as db:
        stored = db.execute(text("SELECT credential FROM mapping")).scalar_one()
        app_cred = db.execute(text("SELECT app_credential FROM mapping")).scalar_one()
    settings = api.client.app.state.settings
    pool_user_password = decrypt_json(stored, settings=settings)["password"]
    app_credential_secret = decrypt_json(app_cred, settings=settings)["secret"]
    key = api.client.post("/v1/api-keys", headers=boss, json={"name": "k"}).json()
    signed = ApiKeyAuth(key_id=key["key_id"], secret=key["secret"])
    assert api.client.get("/v1/api-keys", auth=signed).status_code == 200
    wrong = ApiKeyAuth(key_id=key["key_id"], secret=key["secret"] + "x")
    assert key["secret"] not in api.client.get("/v1/api-keys", auth=wrong).text
    out = capfd.readouterr()
    logs = out.out + out.err
    assert "mapping.step" in logs  # the logs really were captured
    secrets = [
        pool.password,
        "wrong-but-secret-123",
        pool_user_password,
        app_credential_secret,
        key["secret"],
        "boss-password",
        boss["X-Auth-Token"],
        api.admin["X-Auth-Token"],
    ]
    database = dump_database(api)
    for secret in secrets:
        assert secret not in logs
        assert secret not in database


@pytest.fixture(autouse=True)
def _reset_logging() -> Any:
    yield
    import structlog

    structlog.reset_defaults()
