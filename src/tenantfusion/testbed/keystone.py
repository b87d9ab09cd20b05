"""One Keystone per pool on loopback: SQLite, fernet tokens, bootstrapped admin, uwsgi."""

from __future__ import annotations

import secrets
from pathlib import Path

from tenantfusion.testbed.process import healthy, read_pid, run, stop, wait_http

KEYSTONE_BASE_PORT = 5000
REGION = "RegionOne"

CONF = """[DEFAULT]
log_file = {dir}/keystone-app.log

[database]
connection = sqlite:///{dir}/keystone.db

[token]
provider = fernet
expiration = {token_ttl}

[fernet_tokens]
key_repository = {dir}/fernet-keys

[credential]
key_repository = {dir}/credential-keys

[identity]
# Test beds only: cheap bcrypt so token issue costs ~50 ms instead of ~300 ms.
# Never a production setting.
password_hash_rounds = 4

[cache]
enabled = false
"""


def keystone_port(index: int) -> int:
    return KEYSTONE_BASE_PORT + index


def auth_url(index: int) -> str:
    return f"http://127.0.0.1:{keystone_port(index)}/v3"


def admin_password(pool_dir: Path) -> str:
    """The pool admin's password: generated once per test bed, kept in the pool folder."""
    path = pool_dir / "admin-password"
    if not path.exists():
        pool_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(16))
        path.chmod(0o600)
    return path.read_text().strip()


def setup(*, venv: Path, pool_dir: Path, index: int, token_ttl: int = 3600) -> None:
    """Write the config, migrate, create keys and bootstrap (once per pool folder)."""
    if (pool_dir / ".bootstrapped").exists():
        return
    pool_dir.mkdir(parents=True, exist_ok=True)
    conf = pool_dir / "keystone.conf"
    conf.write_text(CONF.format(dir=pool_dir, token_ttl=token_ttl))
    manage = [str(venv / "bin" / "keystone-manage"), "--config-file", str(conf)]
    log = pool_dir / "setup.log"
    run([*manage, "db_sync"], log=log)
    run([*manage, "fernet_setup", "--keystone-user", "root", "--keystone-group", "root"], log=log)
    run(
        [*manage, "credential_setup", "--keystone-user", "root", "--keystone-group", "root"],
        log=log,
    )
    url = auth_url(index)
    run(
        [
            *manage,
            "bootstrap",
            "--bootstrap-password",
            admin_password(pool_dir),
            "--bootstrap-admin-url",
            url,
            "--bootstrap-public-url",
            url,
            "--bootstrap-internal-url",
            url,
            "--bootstrap-region-id",
            REGION,
        ],
        log=log,
    )
    (pool_dir / ".bootstrapped").write_text("ok")


def start(*, venv: Path, pool_dir: Path, index: int) -> None:
    """Start Keystone under uwsgi unless it already answers."""
    url = auth_url(index)
    pid_file = pool_dir / "keystone.pid"
    if read_pid(pid_file) and healthy(url):
        return
    stop(pid_file)
    if healthy(url):
        raise RuntimeError(
            f"{url} already answers but was not started from {pool_dir}: another test bed or "
            "program holds the port; stop it first (python -m tenantfusion.testbed down)"
        )
    log = pool_dir / "keystone.log"
    run(
        [
            str(venv / "bin" / "uwsgi"),
            "--http-socket",
            f"127.0.0.1:{keystone_port(index)}",
            "--module",
            "keystone.wsgi.api:application",
            "--virtualenv",
            str(venv),
            "--master",
            "--processes",
            "2",
            "--threads",
            "2",
            "--lazy-apps",
            "--pidfile",
            str(pid_file),
            "--daemonize",
            str(log),
            "--add-header",
            "Connection: close",
            "--die-on-term",
            "--need-app",
            "--env",
            f"OS_KEYSTONE_CONFIG_FILES={pool_dir / 'keystone.conf'}",
        ],
        log=pool_dir / "setup.log",
    )
    wait_http(url, timeout=60, log=log)


def stop_keystone(pool_dir: Path) -> bool:
    """Stop this pool's Keystone (by its pid file)."""
    return stop(pool_dir / "keystone.pid")
