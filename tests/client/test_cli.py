"""The CLI against a real served API (uvicorn on loopback, the job worker running) and real
Keystone pools: the saved login, exit codes, json checked against the API, tables, --wait;
and a server created from the CLI in a full pool — the README's path for a newcomer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenantfusion.db import session_factory
from tenantfusion.resources import service as record_service
from tests.client.conftest import ADMIN_PASSWORD, Cli, free_port, register
from tests.conftest import TESTBED_ROOT, admin_conn, make_settings

ONE_ERROR_LINE = re.compile(r"error: [^\n]+: [^\n]* \([^\n]+, HTTP \d{3}\)\n")


def test_login_whoami_and_exit_codes(cli: Cli) -> None:
    bad = cli("login", "--username", "root", "--password-stdin", input="wrong\n", code=1)
    assert ONE_ERROR_LINE.fullmatch(bad.stderr) and "HTTP 401" in bad.stderr
    assert not cli.saved().exists()
    cli.login("root", ADMIN_PASSWORD)
    saved = cli.saved()
    assert saved.stat().st_mode & 0o777 == 0o600
    assert ADMIN_PASSWORD not in saved.read_text()
    me = cli.json("whoami")
    assert me == cli.api("/v1/auth/tokens") and me["role"] == "platform_admin"
    assert "root" in cli("whoami").stdout
    missing = cli("tenants", "show", "no-such-tenant", code=1)
    assert ONE_ERROR_LINE.fullmatch(missing.stderr) and "HTTP 404" in missing.stderr
    other = f"http://127.0.0.1:{free_port()}"
    unreachable = cli("tenants", "list", "--url", other, code=3)
    assert unreachable.stderr.startswith(f"error: cannot reach {other}")
    # the token dies on the server (expired or revoked): exit 4, and logout still works
    revoke = httpx.delete(f"{cli.url}/v1/auth/tokens", headers={"X-Auth-Token": cli.token()})
    assert revoke.status_code == 204
    expired = cli("pools", "list", code=4).stderr
    assert expired.startswith("error: not logged in or the token expired")
    cli("logout")
    assert not saved.exists()
    cli("tenants", "list", code=4)


def test_platform_round_trips_on_real_keystone(cli: Cli, keystone_pools: list[Any]) -> None:
    cli.login("root", ADMIN_PASSWORD)
    pool = keystone_pools[-1]
    created = register(cli, pool, "kpool", "--label", "zone=a")
    assert created["name"] == "kpool" and created["labels"] == {"zone": "a"}
    assert cli.json("pools", "show", "kpool") == cli.api("/v1/pools/kpool")
    assert cli.json("pools", "list") == cli.api("/v1/pools")
    assert "kpool" in cli("pools", "list").stdout
    assert cli.json("pools", "check", "kpool")["status"] == "ok"

    tenant = cli.json(
        "tenants", "create", "acme", "--admin-username", "boss", "--admin-password", "boss-pass-1"
    )
    assert cli.json("tenants", "show", tenant["id"]) == cli.api(f"/v1/tenants/{tenant['id']}")
    assert cli.json("tenants", "list") == cli.api("/v1/tenants")
    assert "acme" in cli("tenants", "list").stdout
    for name in ("eve", "fay"):
        cli.json("users", "create", name, "--password", "pass-word-12", "--tenant", tenant["id"])
    users = f"/v1/tenants/{tenant['id']}/users"
    # one user a page: --all walks next_marker to the end
    page = cli.json("users", "list", "--tenant", tenant["id"], "--limit", "1")
    assert page == cli.api(f"{users}?limit=1") and page["next_marker"]
    every = cli.json("users", "list", "--tenant", tenant["id"], "--limit", "1", "--all")
    assert every["items"] == cli.api(users)["items"]
    assert [u["username"] for u in every["items"]] == ["boss", "eve", "fay"]
    eve = every["items"][1]
    assert cli.json("users", "show", eve["id"], "--tenant", tenant["id"]) == eve
    assert "eve" in cli("users", "list", "--tenant", tenant["id"]).stdout
    assert cli("users", "delete", eve["id"], "--tenant", tenant["id"]).stdout == ""
    cli("users", "show", eve["id"], "--tenant", tenant["id"], code=1)

    cli("tenants", "delete", tenant["id"])
    assert cli.json("tenants", "list")["items"] == []
    cli("pools", "delete", "kpool")
    assert cli.json("pools", "list")["items"] == []
    events = cli.json("audit", "list", "--action", "tenant.delete")["items"]
    assert [e["target_id"] for e in events] == [tenant["id"]]
    assert "pool.register" in cli("audit", "list").stdout


def test_mapping_routers_and_jobs_on_real_keystone(
    cli: Cli, keystone_pools: list[Any], sqlite_url: str, tmp_path: Path
) -> None:
    cli.login("root", ADMIN_PASSWORD)
    pool = keystone_pools[0]
    pool_ids = {f"kp{i}": register(cli, p, f"kp{i}")["id"] for i, p in enumerate(keystone_pools, 1)}
    cli.json(
        "tenants", "create", "zeta", "--admin-username", "boss", "--admin-password", "boss-pass-1"
    )
    cli.login("boss", "boss-pass-1", tenant="zeta")
    mapping = cli.json("mappings", "create", "kp1")
    assert mapping["state"] == "active"
    conn = admin_conn(pool)
    assert conn.identity.get_project(mapping["remote_id"]).name == mapping["project_name"]
    assert cli.json("mappings", "create", "kp1")["remote_id"] == mapping["remote_id"]  # ensure
    tenant_id = cli.json("whoami")["tenant_id"]
    assert cli.json("mappings", "show", "kp1") == cli.api(f"/v1/tenants/{tenant_id}/mappings/kp1")
    assert mapping["project_name"] in cli("mappings", "list").stdout
    rotated = cli.json("mappings", "rotate", "kp1")
    assert rotated["auth_kind"] == mapping["auth_kind"] == "application_credential"
    assert rotated["credential_id"] != mapping["credential_id"]

    # a router on record in kp2, where the tenant has no project: kp2 cannot answer, the
    # list is partial — one stderr line (kp1, where the tenant has nothing, is not asked;
    # whether kp1 is Keystone-only or full depends on which tests ran before)
    settings = make_settings(sqlite_url, tmp_path)
    with session_factory(settings)() as db:
        records = [
            record_service.begin(
                db=db, tenant_id=tenant_id, pool_id=pool_ids[name], kind="router", name="r1"
            )[0]
            for name in ("kp2",)
        ]
        for record in records:
            record_service.activate(db=db, record=record, remote_id=f"router-{record.id}")
        routers = cli("routers", "list", "--output", "json")
        api_page = cli.api("/v1/routers")
        assert json.loads(routers.stdout) == api_page and api_page["items"] == []
        assert api_page["pools"] == {"kp2": "error"}
        assert routers.stderr == "warning: pool kp2 error: the list is partial\n"
        table = cli("routers", "list", "--all")
        assert table.stderr == routers.stderr and "is_distributed" in table.stdout
        assert cli("routers", "list", "--pool", "kp1").stderr == ""
        for record in records:
            record_service.discard(db=db, record=record)

    job = cli.json("mappings", "delete", "kp1")  # a job, not waited for
    assert job["kind"] and job["state"] in ("queued", "running", "succeeded")
    waited = cli("jobs", "wait", job["id"], "--output", "json")
    done = json.loads(waited.stdout)
    assert done["state"] == "succeeded" and done["step"] == done["total_steps"] > 0
    assert f"job {job['id']} ({job['kind']}): succeeded, step" in waited.stderr  # no TTY: plain
    assert conn.identity.find_project(mapping["project_name"]) is None
    assert cli.json("jobs", "show", job["id"]) == cli.api(f"/v1/jobs/{job['id']}")
    assert job["id"] in cli("jobs", "list", "--state", "succeeded").stdout
    assert cli.json("jobs", "list", "--state", "failed")["items"] == []


def test_wait_that_runs_out_is_exit_5(
    serve: Callable[..., str], keystone_pools: list[Any], tmp_path: Path
) -> None:
    cli = Cli(url=serve(run_worker=False), config_dir=tmp_path / "cfg")  # jobs stay queued
    cli.login("root", ADMIN_PASSWORD)
    register(cli, keystone_pools[0], "kp1")
    r = cli("pools", "reconcile", "kp1", "--wait", "--timeout", "1", code=5)
    lines = r.stderr.splitlines()
    assert re.fullmatch(r"job \S+ \(pool.reconcile\): queued, step 0/\d+", lines[0])
    assert re.fullmatch(r"error: job \S+ \(\S+\) still queued after 1 s", lines[-1])
    job_id = cli.json("jobs", "list")["items"][0]["id"]
    cli("jobs", "wait", job_id, "--timeout", "1", code=5)


@pytest.mark.pools
def test_a_newcomer_creates_a_server_from_the_cli(cli: Cli) -> None:
    from tenantfusion.testbed import connect, ensure_pools

    pool = ensure_pools(count=1, kind="full", root=TESTBED_ROOT)[0]
    cli.login("root", ADMIN_PASSWORD)
    register(cli, pool, "full", "--default-network-cidr", "10.66.0.0/24")
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


@pytest.mark.pools
def test_volumes_from_the_cli(cli: Cli) -> None:
    import time

    from tenantfusion.testbed import connect, ensure_pools

    pool = ensure_pools(count=1, kind="full")[0]
    cli.login("root", ADMIN_PASSWORD)
    register(cli, pool, "full")
    cli.json(
        "tenants", "create", "vols", "--admin-username", "boss", "--admin-password", "boss-pass-1"
    )
    cli.login("boss", "boss-pass-1", tenant="vols")
    volume = cli.json("volumes", "create", "data", "--size", "1", "--pool", "full")
    assert volume["pool"] == "full" and volume["size_gb"] == 1
    assert connect(pool).block_storage.get_volume(volume["remote_id"]).size == 1
    deadline = time.monotonic() + 60
    while cli.json("volumes", "show", volume["id"])["status"] != "available":
        assert time.monotonic() < deadline, "volume not available"
        time.sleep(1)
    table = cli("volumes", "list").stdout
    assert "data" in table and "size_gb" in table
    assert cli.json("volumes", "list")["items"][0]["id"] == volume["id"]
    unknown = cli("volumes", "attach", volume["id"], "--server", "no-such-server", code=1)
    assert ONE_ERROR_LINE.fullmatch(unknown.stderr) and "HTTP 404" in unknown.stderr
    loose = cli("volumes", "detach", volume["id"], code=1)
    assert ONE_ERROR_LINE.fullmatch(loose.stderr) and "HTTP 409" in loose.stderr
    cli("volumes", "delete", volume["id"])
    assert cli.json("volumes", "list")["items"] == []
    cli.json("mappings", "delete", "full", "--wait")
