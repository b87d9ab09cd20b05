"""A real API for the CLI: `tenantfusion serve` in its own process on a free loopback port
(API, console and job worker) over a temp SQLite database, and a CliRunner with its own
config directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tenantfusion.cli import app
from tenantfusion.db import session_factory
from tenantfusion.platform import service as platform_service
from tests.conftest import TEST_KEY, _truncate, make_settings
from tests.live import free_port

ADMIN_PASSWORD = "cli-admin-password"


@pytest.fixture
def serve(sqlite_url: str, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start `tenantfusion serve` (``run_worker=False``: jobs stay queued); returns its URL.
    A platform admin ``root`` exists; the tables are emptied afterwards."""
    settings = make_settings(sqlite_url, tmp_path, pool_timeout_seconds=30.0)
    with session_factory(settings)() as db:
        platform_service.create_platform_admin(db=db, username="root", password=ADMIN_PASSWORD)
        db.commit()
    started: list[subprocess.Popen[bytes]] = []

    def start(*, run_worker: bool = True) -> str:
        port = free_port()
        env = {
            **os.environ,
            "TENANTFUSION_DATABASE_URL": sqlite_url,
            "TENANTFUSION_DATA_DIR": str(tmp_path),
            "TENANTFUSION_SECRET_KEY": TEST_KEY,
            "TENANTFUSION_POOL_TIMEOUT_SECONDS": "30",
            "TENANTFUSION_LOG_LEVEL": "WARNING",
            "TENANTFUSION_RUN_WORKER": str(run_worker).lower(),
        }
        exe = Path(sys.executable).parent / "tenantfusion"
        server = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(server)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    return url
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.2)

    try:
        yield start
    finally:
        for server in started:
            server.terminate()
            server.wait(timeout=20)
        _truncate(sqlite_url)


@pytest.fixture
def served(serve: Callable[..., str]) -> str:
    """The URL of a served API with its job worker."""
    return serve()


class Cli:
    """Runs the real Typer app (as `tenantfusion ...`) against ``url``; asserts exit codes."""

    def __init__(self, *, url: str, config_dir: Path) -> None:
        self.runner = CliRunner()
        self.url = url
        self.env = {"TENANTFUSION_URL": url, "TENANTFUSION_CONFIG_DIR": str(config_dir)}
        self.config_dir = config_dir

    def __call__(self, *args: str, input: str | None = None, code: int = 0) -> Any:
        result = self.runner.invoke(app, list(args), input=input, env=self.env)
        assert result.exit_code == code, (args, result.exit_code, result.output)
        assert "Traceback" not in result.output
        return result

    def json(self, *args: str, input: str | None = None) -> Any:
        return json.loads(self(*args, "--output", "json", input=input).stdout)

    def login(self, username: str, password: str, tenant: str | None = None) -> None:
        extra = ["--tenant", tenant] if tenant else []
        self("login", "--username", username, *extra, "--password-stdin", input=password + "\n")

    def token(self) -> str:
        return str(json.loads(self.saved().read_text())["token"])

    def saved(self, profile: str = "default") -> Path:
        """Where ``profile``'s login is saved."""
        return self.config_dir / "profiles" / f"{profile}.json"

    def api(self, path: str) -> Any:
        """GET ``path`` straight from the API with the saved token: the CLI's witness."""
        r = httpx.get(f"{self.url}{path}", headers={"X-Auth-Token": self.token()})
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def cli(served: str, tmp_path: Path) -> Cli:
    return Cli(url=served, config_dir=tmp_path / "cfg")


def register(cli: Cli, pool: Any, name: str, *extra: str) -> dict[str, Any]:
    """`tenantfusion pools create` for a test-bed pool (password on stdin)."""
    args = ["pools", "create", name, "--auth-url", pool.auth_url, "--username", pool.username]
    args += ["--project-name", pool.project_name, "--password-stdin", *extra]
    return cli.json(*args, input=pool.password + "\n")  # type: ignore[no-any-return]
