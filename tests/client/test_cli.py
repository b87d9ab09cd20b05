"""The CLI against a real served API (uvicorn on loopback, the job worker running) and real
pools: exit codes, the saved login, json/table output, and a server created from the CLI
in a full pool — the README's path for a newcomer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tenantfusion.cli import app
from tenantfusion.config import Settings
from tenantfusion.db import session_factory
from tenantfusion.platform import service as platform_service
from tests.conftest import TEST_KEY, _truncate, admin_conn, make_settings

ADMIN_PASSWORD = "cli-admin-password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    """`tenantfusion serve` in its own process (the API, the console and the job worker)."""
    settings = make_settings(sqlite_url, tmp_path, pool_timeout_seconds=30.0)
    with session_factory(settings)() as db:
        platform_service.create_platform_admin(db=db, username="root", password=ADMIN_PASSWORD)
        db.commit()
    port = _free_port()
    env = {
        **os.environ,
        "TENANTFUSION_DATABASE_URL": sqlite_url,
        "TENANTFUSION_DATA_DIR": str(tmp_path),
        "TENANTFUSION_SECRET_KEY": TEST_KEY,
        "TENANTFUSION_POOL_TIMEOUT_SECONDS": "30",
        "TENANTFUSION_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "tenantfusion"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.2)
        yield url, settings
    finally:
        server.terminate()
        server.wait(timeout=20)
        _truncate(sqlite_url)


class Cli:
    def __init__(self, url: str, config_dir: Path) -> None:
        self.runner = CliRunner()
        self.env = {"TENANTFUSION_URL": url, "TENANTFUSION_CONFIG_DIR": str(config_dir)}
        self.config_dir = config_dir

    def __call__(self, *args: str, input: str | None = None, code: int = 0) -> Any:
        result = self.runner.invoke(app, list(args), input=input, env=self.env)
        assert result.exit_code == code, (args, result.exit_code, result.output)
        return result

    def json(self, *args: str, input: str | None = None) -> Any:
        return json.loads(self(*args, "--output", "json", input=input).stdout)

    def login(self, username: str, password: str, tenant: str | None = None) -> None:
        extra = ["--tenant", tenant] if tenant else []
        self("login", "--username", username, *extra, "--password-stdin", input=password + "\n")


@pytest.fixture
def cli(served: tuple[str, Settings], tmp_path: Path) -> Cli:
    return Cli(served[0], tmp_path / "cfg")


def register(cli: Cli, pool: Any, name: str, **extra: str) -> dict[str, Any]:
    args = ["pools", "create", name, "--auth-url", pool.auth_url, "--username", pool.username]
    args += ["--project-name", pool.project_name, "--password-stdin"]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}", value]
    return cli.json(*args, input=pool.password + "\n")  # type: ignore[no-any-return]


def test_exit_codes_and_saved_login(cli: Cli, keystone_pools: list[Any]) -> None:
    r = cli("servers", "list", code=4)  # no login yet
    assert r.stderr.startswith("error: not logged in") and len(r.stderr.splitlines()) == 1
    bad = cli("login", "--username", "root", "--password-stdin", input="wrong\n", code=1)
    assert "HTTP 401" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    cli.login("root", ADMIN_PASSWORD)
    saved = cli.config_dir / "login.json"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert ADMIN_PASSWORD not in saved.read_text()
    assert cli.json("whoami")["role"] == "platform_admin"
    missing = cli("tenants", "show", "no-such-tenant", code=1)
    assert "not-found" in missing.stderr and "Traceback" not in missing.output
    unreachable = cli("tenants", "list", "--url", f"http://127.0.0.1:{_free_port()}", code=3)
    assert unreachable.stderr.startswith("error: cannot reach")
    cli("servers", "list", "--limit", "0", code=2)  # usage error
    cli("logout")
    cli("tenants", "list", code=4)


def test_admin_and_tenant_round_trip_on_real_keystone(cli: Cli, keystone_pools: list[Any]) -> None:
    cli.login("root", ADMIN_PASSWORD)
    pool = keystone_pools[-1]
    created = register(cli, pool, "kpool", label="zone=a")
    assert created["name"] == "kpool" and created["labels"] == {"zone": "a"}
    assert "kpool" in cli("pools", "list").stdout  # table
    tenant = cli.json(
        "tenants", "create", "acme", "--admin-username", "boss", "--admin-password", "boss-pass-1"
    )
    listed = cli.json("tenants", "list")
    assert [t["name"] for t in listed["items"]] == ["acme"]
    user = cli.json("users", "create", "eve", "--password", "eve-pass-12", "--tenant", tenant["id"])
    assert user["role"] == "member"
    names = [u["username"] for u in cli.json("users", "list", "--tenant", tenant["id"])["items"]]
    assert sorted(names) == ["boss", "eve"]

    cli.login("boss", "boss-pass-1", tenant="acme")
    mapping = cli.json("mappings", "create", "kpool")
    assert mapping["state"] == "active"
    conn = admin_conn(pool)
    assert conn.identity.get_project(mapping["remote_id"]).name == mapping["project_name"]
    job = cli.json("mappings", "delete", "kpool", "--wait")
    assert job["state"] == "succeeded"
    assert conn.identity.find_project(mapping["project_name"]) is None
    cli.login("root", ADMIN_PASSWORD)
    cli("tenants", "delete", tenant["id"])
    assert cli.json("tenants", "list")["items"] == []
    actions = {e["action"] for e in cli.json("audit", "list")["items"]}
    assert {"tenant.create", "tenant.delete", "pool.register"} <= actions


@pytest.mark.pools
def test_a_newcomer_creates_a_server_from_the_cli(cli: Cli) -> None:
    from tenantfusion.testbed import connect, ensure_pools

    pool = ensure_pools(count=1, kind="full")[0]
    cli.login("root", ADMIN_PASSWORD)
    register(cli, pool, "full", default_network_cidr="10.66.0.0/24")
    cli.json(
        "tenants", "create", "demo", "--admin-username", "boss", "--admin-password", "boss-pass-1"
    )
    cli.login("boss", "boss-pass-1", tenant="demo")
    assert "m1.nano" in cli("flavors", "list").stdout
    server = cli.json(
        "servers", "create", "web-1", "--flavor", "m1.nano", "--image", "cirros-tiny", "--wait"
    )
    assert server["status"] == "ACTIVE" and server["pool"] == "full"
    assert connect(pool).compute.get_server(server["remote_id"]).status == "ACTIVE"
    listed = cli.json("servers", "list", "--all")
    assert [s["id"] for s in listed["items"]] == [server["id"]]
    cli.json("servers", "stop", server["id"])
    job = cli.json("servers", "delete", server["id"], "--wait")
    assert job["state"] == "succeeded"
    assert connect(pool).compute.find_server(server["remote_id"]) is None
    # the default network, subnet and router the first server brought: remove them too
    for router in cli.json("routers", "list")["items"]:
        for subnet in router["interfaces"]:
            cli("routers", "remove-interface", router["id"], "--subnet", subnet)
        cli("routers", "delete", router["id"])
    for kind in ("subnets", "networks"):
        for item in cli.json(kind, "list")["items"]:
            cli(kind, "delete", item["id"])
    cli.json("mappings", "delete", "full", "--wait")
