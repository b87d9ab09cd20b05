"""Keys: production refuses to start without a valid key; rotate-keys re-encrypts every
stored secret (real pool and mapping credentials) in one transaction; private files;
SQL parameters never in an error text."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import text

from tenantfusion.config import Settings
from tenantfusion.crypto import encrypt_json
from tenantfusion.db import engine_for, upgrade
from tenantfusion.pools import service as pool_service
from tests.conftest import TEST_KEY, Api, make_settings, pool_body


def run_cli(args: list[str], env: dict[str, str], timeout: float = 60) -> Any:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TENANTFUSION_")}
    full = {**inherited, **env}
    code = "from tenantfusion.cli import main; main()"
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-c", code, *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "env",
    [
        {"TENANTFUSION_ENVIRONMENT": "production"},
        {"TENANTFUSION_ENVIRONMENT": "production", "TENANTFUSION_SECRET_KEY": "not-a-key"},
        {"TENANTFUSION_ENVIRONMENT": "production", "TENANTFUSION_SECRET_KEY": " , "},
    ],
)
def test_production_refuses_to_start_without_a_valid_key(
    env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **env,
        "TENANTFUSION_DATA_DIR": str(tmp_path / "data"),
        "TENANTFUSION_RUN_WORKER": "false",
    }
    r = run_cli(["serve", "--port", str(free_port())], env, timeout=30)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "SECRET_KEY" in lines[0]
    assert not (tmp_path / "data" / "tenantfusion.db").exists()  # nothing was served or migrated


def test_data_dir_0700_database_and_key_0600(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, database_url="")
    upgrade(settings)
    from tenantfusion.crypto import keys_from_settings

    keys_from_settings(settings)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "tenantfusion.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "secret.key").stat().st_mode) == 0o600
    engine_for(settings.resolved_database_url).dispose()


def test_sql_parameters_never_in_error_text(sqlite_settings: Settings) -> None:
    secret = "gAAAAAB-ciphertext-that-must-not-leak"
    engine = engine_for(sqlite_settings.resolved_database_url)
    with pytest.raises(Exception) as caught, engine.connect() as conn:
        conn.execute(
            text("INSERT INTO pool (id, credential) VALUES (:a, :b)"), {"a": 1, "b": secret}
        )
    assert secret not in str(caught.value) and "hidden" in str(caught.value)


@pytest.mark.keystone
def test_rotate_keys_re_encrypts_every_secret_in_one_transaction(
    api: Api, keystone_pools: list[Any], tmp_path: Path
) -> None:
    pool = keystone_pools[0]
    r = api.client.post("/v1/pools", headers=api.admin, json=pool_body(pool, "rot"))
    assert r.status_code == 201, r.text
    tenant, boss = api.new_tenant()
    r = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/rot", headers=boss)
    assert r.status_code in (200, 201), r.text
    url = api.client.app.state.settings.resolved_database_url

    def stored() -> list[str]:
        with api.sessions() as db:
            return [
                *db.scalars(text("SELECT credential FROM pool")),
                *db.scalars(text("SELECT credential FROM mapping")),
            ]

    before = stored()
    new_key = Fernet.generate_key().decode()
    env = {"TENANTFUSION_DATABASE_URL": url, "TENANTFUSION_DATA_DIR": str(tmp_path)}

    # one secret no configured key opens: nothing at all is changed
    with api.sessions.begin() as db:
        db.execute(
            text("UPDATE mapping SET credential = :c"),
            {
                "c": encrypt_json(
                    {"password": "x"}, settings=Settings(secret_key=Fernet.generate_key().decode())
                )
            },  # type: ignore[arg-type]
        )
    broken = stored()
    r = run_cli(
        ["admin", "rotate-keys"], {**env, "TENANTFUSION_SECRET_KEY": f"{new_key},{TEST_KEY}"}
    )
    assert r.returncode == 1 and "mapping.credential" in r.stderr, r.stderr
    assert stored() == broken
    with api.sessions.begin() as db:
        db.execute(text("UPDATE mapping SET credential = :c"), {"c": before[1]})

    r = run_cli(
        ["admin", "rotate-keys"], {**env, "TENANTFUSION_SECRET_KEY": f"{new_key},{TEST_KEY}"}
    )
    assert r.returncode == 0, r.stderr
    assert "pool.credential: 1" in r.stdout and "mapping.credential: 1" in r.stdout
    after = stored()
    assert len(after) == 2 and set(after).isdisjoint(before)
    for token in after:
        Fernet(new_key.encode()).decrypt(token.encode())
        with pytest.raises(InvalidToken):
            Fernet(TEST_KEY.encode()).decrypt(token.encode())
    # the old key dropped: the pool's credential still opens and Keystone accepts it
    only_new = make_settings(url, tmp_path, secret_key=new_key)
    with api.sessions() as db:  # refresh_health ends the transaction before asking the pool
        found = pool_service.get_or_raise(db=db, ref="rot")
        checked = pool_service.refresh_health(db=db, pool=found, settings=only_new)
        db.commit()
    assert checked.status.value == "ok", checked.status_reason
