"""Keystone for one pool: SQLite database, fernet and credential keys, bootstrap, uwsgi."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from cryptography.fernet import Fernet

from tenantfusion.testbed.layout import HOST, Layout
from tenantfusion.testbed.process import UwsgiApp

ADMIN_USER = "admin"
ADMIN_PROJECT = "admin"
REGION = "RegionOne"
BOOTSTRAP_MARKER = ".keystone-bootstrapped"


def auth_url(layout: Layout, index: int) -> str:
    """Identity v3 URL of pool `index`."""
    return f"http://{HOST}:{layout.port('keystone', index)}/v3"


def config_text(pool_dir: Path, *, database_url: str | None = None) -> str:
    """Return keystone.conf for a pool kept in `pool_dir`."""
    database_url = database_url or f"sqlite:///{pool_dir / 'keystone.sqlite'}"
    return f"""\
[DEFAULT]
debug = false

[database]
connection = {database_url}

[token]
provider = fernet
expiration = 86400

[fernet_tokens]
key_repository = {pool_dir / "fernet-keys"}

[credential]
key_repository = {pool_dir / "credential-keys"}

[identity]
# TEST BEDS ONLY: cheap bcrypt cost so password authentication takes ~50 ms
# instead of ~300 ms. Never use this outside a throw-away test bed.
password_hash_rounds = 4
"""


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


def setup(layout: Layout, index: int, *, password: str, database_url: str | None = None) -> None:
    """Create config, keys and database, then bootstrap admin, region and catalog (once)."""
    pool_dir = layout.pool_dir(index)
    if (pool_dir / BOOTSTRAP_MARKER).exists():
        return
    pool_dir.mkdir(parents=True, exist_ok=True)
    conf = pool_dir / "keystone.conf"
    conf.write_text(config_text(pool_dir, database_url=database_url))
    _write_keys(pool_dir / "fernet-keys")
    _write_keys(pool_dir / "credential-keys")
    manage = [str(layout.venv_bin("keystone-manage")), "--config-file", str(conf)]
    url = auth_url(layout, index)
    run_env = {**os.environ, "PYTHONWARNINGS": "ignore", **env(pool_dir)}
    run_env["OS_BOOTSTRAP_PASSWORD"] = password
    log = pool_dir / "keystone-manage.log"
    with log.open("a") as out:
        subprocess.run([*manage, "db_sync"], check=True, env=run_env, stdout=out, stderr=out)
        subprocess.run(
            [
                *manage, "bootstrap",
                "--bootstrap-username", ADMIN_USER,
                "--bootstrap-project-name", ADMIN_PROJECT,
                "--bootstrap-role-name", "admin",
                "--bootstrap-service-name", "keystone",
                "--bootstrap-region-id", REGION,
                "--bootstrap-admin-url", url,
                "--bootstrap-internal-url", url,
                "--bootstrap-public-url", url,
            ],
            check=True, env=run_env, stdout=out, stderr=out,
        )  # fmt: skip
    (pool_dir / BOOTSTRAP_MARKER).write_text("ok\n")


def app(layout: Layout, index: int) -> UwsgiApp:
    """The uwsgi description of pool `index`'s Keystone."""
    pool_dir = layout.pool_dir(index)
    return UwsgiApp(
        name="keystone",
        port=layout.port("keystone", index),
        module="keystone.wsgi.api:application",
        pidfile=pool_dir / "keystone.pid",
        logfile=pool_dir / "keystone.log",
        env=env(pool_dir),
        health_path="/v3",
    )
