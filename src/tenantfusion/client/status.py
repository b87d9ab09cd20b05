"""``tenantfusion status``: pools (health, breaker), usage per pool and the jobs not yet
finished, on one screen, from the API's own lists."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tenantfusion.client.base import FormatOpt, UrlOpt, client, one_line_errors
from tenantfusion.client.group import fetch
from tenantfusion.client.http import Client
from tenantfusion.client.output import Format, emit_sections, warn_partial

#: What a tenant's usage counts, per pool (its routing records, as the lists show them).
KINDS = ("servers", "networks", "subnets", "routers", "floating-ips")
UNFINISHED = ("running", "queued", "paused")
BREAKER = {0: "closed", 1: "half-open", 2: "open"}
JOB_COLUMNS = ("id", "kind", "state", "step", "total_steps", "step_name", "attempts")


def _breakers(api: Client) -> dict[str, str]:
    """Each pool's circuit breaker as the answering server sees it (``/metrics``)."""
    text = api.call("GET", "/metrics", text=True)
    states: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "tenantfusion_pool_breaker_state":
            for sample in family.samples:
                states[sample.labels["pool"]] = BREAKER.get(int(sample.value), "?")
    return states


def _tenant_usage(api: Client, pools: list[str]) -> list[dict[str, Any]]:
    """The caller's tenant: how many objects of each kind it has in each pool."""

    def zero(pool: str) -> dict[str, Any]:
        return {"pool": pool, **dict.fromkeys(KINDS, 0)}

    rows = {pool: zero(pool) for pool in pools}
    for kind in KINDS:
        page = fetch(api, f"/v1/{kind}", params={"limit": 1000}, every=True)
        warn_partial(page)
        for item in page["items"]:
            rows.setdefault(item["pool"], zero(item["pool"]))[kind] += 1
    return list(rows.values())


def _platform_usage(api: Client, pools: list[str]) -> list[dict[str, Any]]:
    """A platform admin: how many tenants have a project in each pool, by mapping state."""

    def zero(pool: str) -> dict[str, Any]:
        return {"pool": pool, "tenants": 0, "active": 0, "other": 0}

    rows = {pool: zero(pool) for pool in pools}
    for tenant in fetch(api, "/v1/tenants", params={"limit": 1000}, every=True)["items"]:
        path = f"/v1/tenants/{tenant['id']}/mappings"
        for mapping in fetch(api, path, params={}, every=True)["items"]:
            row = rows.setdefault(mapping["pool"], zero(mapping["pool"]))
            row["tenants"] += 1
            row["active" if mapping["state"] == "active" else "other"] += 1
    return list(rows.values())


@one_line_errors
def status(fmt: FormatOpt = Format.table, url: UrlOpt = None) -> None:
    """Pools, usage and unfinished jobs on one screen.

    Pools: health (and, for platform admins, the circuit breaker as the answering server
    sees it); usage per pool: a tenant's objects by kind, or for platform admins the
    tenants with a project there; jobs running, queued or paused.
    """
    api = client(url=url)
    is_admin = api.call("GET", "/v1/auth/tokens").get("role") == "platform_admin"
    pools = fetch(api, "/v1/pools", params={"limit": 1000}, every=True)["items"]
    names = [p["name"] for p in pools]
    breakers = _breakers(api) if is_admin else {}
    pool_rows = [
        {
            "pool": p["name"],
            "enabled": p["is_enabled"],
            "status": p["status"],
            "breaker": breakers.get(p["name"], "closed") if is_admin else None,
            "reason": p.get("status_reason"),
        }
        for p in pools
    ]
    pool_columns = ("pool", "enabled", "status", *(("breaker", "reason") if is_admin else ()))
    usage = _platform_usage(api, names) if is_admin else _tenant_usage(api, names)
    usage_columns = ("pool", "tenants", "active", "other") if is_admin else ("pool", *KINDS)
    jobs = [
        job
        for state in UNFINISHED
        for job in api.call("GET", "/v1/jobs", params={"state": state, "limit": 500})["items"]
    ]
    emit_sections(
        {
            "pools": (pool_columns, pool_rows),
            "usage": (usage_columns, usage),
            "jobs": (JOB_COLUMNS, jobs),
        },
        fmt=fmt,
    )
