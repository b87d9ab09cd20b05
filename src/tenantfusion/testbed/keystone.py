"""Keystone for one pool: SQLite database, fernet and credential keys, bootstrap, uwsgi."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from cryptography.fernet import Fernet

from tenantfusion.testbed.context import REGION, PoolContext
from tenantfusion.testbed.ini import render
from tenantfusion.testbed.process import UwsgiApp

ADMIN_USER = "admin"
ADMIN_PROJECT = "admin"
MARKER = ".keystone-bootstrapped"


def config_text(pool_dir: Path) -> str:
    """Return keystone.conf for a pool kept in `pool_dir`."""
    body = render(
        {
            "DEFAULT": {"debug": False},
            "database": {"connection": f"sqlite:///{pool_dir / 'keystone.sqlite'}"},
            "token": {"provider": "fernet", "expiration": 86400},
            "fernet_tokens": {"key_repository": str(pool_dir / "fernet-keys")},
            # receipts (MFA) load their own key repository at start-up; without this
            # keystone-manage looks for /etc/keystone/fernet-keys/ and exits 1
            "fernet_receipts": {"key_repository": str(pool_dir / "fernet-keys")},
            "credential": {"key_repository": str(pool_dir / "credential-keys")},
            "identity": {"password_hash_rounds": 4},
        }
    )
    # TEST BEDS ONLY: bcrypt cost 4 makes password auth ~40 ms instead of ~300 ms.
    return "# password_hash_rounds = 4 is for throw-away test beds only.\n" + body


def _write_keys(directory: Path) -> None:
    """Write a staged (0) and a primary (1) Fernet key, like `keystone-manage *_setup`."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in ("0", "1"):
        path = directory / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())


def env(pool_dir: Path) -> dict[str, str]:
    """Environment that points keystone (manage and WSGI app) at this pool's config."""
    return {"OS_KEYSTONE_CONFIG_DIR": str(pool_dir), "OS_KEYSTONE_CONFIG_FILES": "keystone.conf"}


#: Keystone declares ON DELETE CASCADE from an application credential to its role and
#: access-rule rows, which SQLite enforces only with foreign keys on (oslo.db leaves them
#: off): the rows stay, and the next credential that reuses the freed integer key fails
#: with a 409 "Duplicate entry". These triggers do what MySQL/PostgreSQL would.
APP_CREDENTIAL_CASCADE = """
CREATE TRIGGER IF NOT EXISTS tf_app_cred_cascade AFTER DELETE ON application_credential
BEGIN
  DELETE FROM application_credential_role WHERE application_credential_id = OLD.internal_id;
  DELETE FROM application_credential_access_rule
    WHERE application_credential_id = OLD.internal_id;
END;
DELETE FROM application_credential_role
  WHERE application_credential_id NOT IN (SELECT internal_id FROM application_credential);
"""


def emulate_cascades(database: Path) -> None:
    """Install the cascade triggers in a pool's Keystone database (idempotent)."""
    with sqlite3.connect(database) as db:
        db.executescript(APP_CREDENTIAL_CASCADE)


def setup(ctx: PoolContext) -> None:
    """Write config (every start); keys, database, bootstrap of admin and catalog (once)."""
    ctx.dir.mkdir(parents=True, exist_ok=True)
    conf = ctx.dir / "keystone.conf"
    conf.write_text(config_text(ctx.dir))
    _write_keys(ctx.dir / "fernet-keys")
    _write_keys(ctx.dir / "credential-keys")
    if (ctx.dir / MARKER).exists():
        emulate_cascades(ctx.dir / "keystone.sqlite")
        return
    manage = [str(ctx.layout.venv_bin("keystone-manage")), "--config-file", str(conf)]
    run_env = {**os.environ, "PYTHONWARNINGS": "ignore", **env(ctx.dir)}
    run_env["OS_BOOTSTRAP_PASSWORD"] = ctx.secrets["admin_password"]
    url = ctx.auth_url
    with (ctx.dir / "setup.log").open("a") as out:
        subprocess.run([*manage, "db_sync"], check=True, env=run_env, stdout=out, stderr=out)
        bootstrap = [
                *manage, "bootstrap",
                "--bootstrap-username", ADMIN_USER,
                "--bootstrap-project-name", ADMIN_PROJECT,
                "--bootstrap-role-name", "admin",
                "--bootstrap-service-name", "keystone",
                "--bootstrap-region-id", REGION,
                "--bootstrap-admin-url", url,
                "--bootstrap-internal-url", url,
                "--bootstrap-public-url", url,
        ]  # fmt: skip
        subprocess.run(bootstrap, check=True, env=run_env, stdout=out, stderr=out)
    emulate_cascades(ctx.dir / "keystone.sqlite")
    (ctx.dir / MARKER).write_text("ok\n")


def processes(ctx: PoolContext) -> list[UwsgiApp]:
    """Keystone's uwsgi app."""
    return [
        UwsgiApp(
            name="keystone",
            port=ctx.port("keystone"),
            module="keystone.wsgi.api:application",
            pidfile=ctx.dir / "keystone.pid",
            logfile=ctx.dir / "keystone.log",
            env=env(ctx.dir),
            processes=2,
            health_path="/v3",
        )
    ]
