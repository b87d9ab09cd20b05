"""``tenantfusion status`` against a real served API and real pools: pools with health and
breaker, usage per pool, unfinished jobs; as a platform admin and as a tenant."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.client.conftest import ADMIN_PASSWORD, Cli, register
from tests.conftest import TESTBED_ROOT, admin_conn

KINDS = ("servers", "networks", "subnets", "routers", "floating-ips")


def test_status_as_platform_admin(
    serve: Callable[..., str], keystone_pools: list[Any], tmp_path: Path
) -> None:
    cli = Cli(url=serve(run_worker=False), config_dir=tmp_path / "cfg")  # jobs stay queued
    cli.login("root", ADMIN_PASSWORD)
    for index, pool in enumerate(keystone_pools, 1):
        register(cli, pool, f"kp{index}")
    tenant = cli.json(
        "tenants", "create", "acme", "--admin-username", "boss", "--admin-password", "pw-1234567"
    )
    mapping = cli.json("mappings", "create", "kp1", "--tenant", tenant["id"])
    try:
        job = cli.json("pools", "reconcile", "kp2")
        status = json.loads(cli("status", "-f", "json").stdout)
        pools = cli.api("/v1/pools")["items"]
        assert status["pools"] == [
            {
                "pool": p["name"],
                "enabled": True,
                "status": p["status"],
                "breaker": "closed",
                "reason": p["status_reason"],
            }
            for p in pools
        ]
        assert status["usage"] == [
            {"pool": "kp1", "tenants": 1, "active": 1, "other": 0},
            {"pool": "kp2", "tenants": 0, "active": 0, "other": 0},
        ]
        assert [(j["id"], j["kind"], j["state"]) for j in status["jobs"]] == [
            (job["id"], "pool.reconcile", "queued")
        ]
        # value: each row starts with its section; table: three titled tables
        lines = cli("status", "-f", "value").stdout.splitlines()
        assert lines[0].startswith("pools kp1 True ") and " closed" in lines[0]
        assert "usage kp1 1 1 0" in lines and "usage kp2 0 0 0" in lines
        assert lines[-1].startswith(f"jobs {job['id']} pool.reconcile queued 0 ")
        table = cli("status").stdout
        assert all(title in table for title in ("pools", "usage", "jobs", job["id"]))
        blocks = cli("status", "-f", "csv").stdout.split("\n\n")
        assert [b.splitlines()[0].split(",")[0] for b in blocks] == ['"pool"', '"pool"', '"id"']
    finally:  # no worker here to deprovision: remove what the mapping made in the pool
        conn = admin_conn(keystone_pools[0])
        conn.identity.delete_user(mapping["remote_user_id"], ignore_missing=True)
        conn.identity.delete_project(mapping["remote_id"], ignore_missing=True)


@pytest.mark.pools
def test_status_as_a_tenant_counts_its_objects_per_pool(cli: Cli) -> None:
    from tenantfusion.testbed import ensure_pools

    pool = ensure_pools(count=1, kind="full", root=TESTBED_ROOT)[0]
    cli.login("root", ADMIN_PASSWORD)
    register(cli, pool, "full")
    cli.json(
        "tenants", "create", "acme", "--admin-username", "boss", "--admin-password", "pw-1234567"
    )
    boss = ("--profile", "boss")
    cli(*boss, "login", "-u", "boss", "-t", "acme", "--password-stdin", input="pw-1234567\n")
    network = cli.json(*boss, "networks", "create", "n1", "--pool", "full")
    try:
        status = json.loads(cli(*boss, "status", "-f", "json").stdout)
        # a tenant sees health, not breakers or reasons
        assert status["pools"] == [{"pool": "full", "enabled": True, "status": "ok"}]
        assert status["usage"] == [{"pool": "full", **dict.fromkeys(KINDS, 0), "networks": 1}]
        assert status["jobs"] == []
        value = cli(*boss, "status", "-f", "value").stdout.splitlines()
        assert value == ["pools full True ok", "usage full 0 1 0 0 0"]
    finally:
        cli(*boss, "networks", "delete", network["id"])
        cli.json(*boss, "mappings", "delete", "full", "--wait")
