"""quotas: show a tenant's limits, usage and reservations; set them (platform admin)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tenantfusion.client.base import (
    EXIT_CODES,
    TenantOpt,
    UrlOpt,
    client,
    one_line_errors,
    prints,
    tenant_path,
)
from tenantfusion.client.output import note

COLUMNS = ("scope", "resource", "limit", "usage", "reserved")

quotas = typer.Typer(
    name="quotas",
    help="Platform quotas of a tenant (set: platform admin).",
    no_args_is_help=True,
    epilog=EXIT_CODES,
)

PoolOpt = Annotated[
    str | None, typer.Option("--pool", help="The limits in this pool (default: platform-wide)")
]
Limit = Annotated[int | None, typer.Option(min=0, help="Limit (unchanged if omitted)")]


def _rows(found: dict[str, Any], pool: str | None) -> list[dict[str, Any]]:
    """One table row per (scope, resource): platform-wide, then each pool (or one)."""
    scopes = [("platform", found["resources"])] if pool is None else []
    scopes += [(p, r) for p, r in found["pools"].items() if pool in (None, p)]
    return [{"scope": s, "resource": k, **v} for s, usage in scopes for k, v in usage.items()]


def _show(found: dict[str, Any], *, pool: str | None) -> dict[str, Any]:
    """The rows to print; drift, unreachable pools and failed pushes as stderr notes."""
    for drift in found.get("drift") or []:
        note(
            f"drift: pool {drift['pool']} holds {drift['pool_count']} {drift['resource']}, "
            f"the records say {drift['records']}"
        )
    for pool_name in found.get("unreachable") or []:
        note(f"warning: pool {pool_name} did not answer: drift unknown there")
    for pool_name, outcome in (found.get("pushed") or {}).items():
        if outcome not in ("ok", "skipped"):
            note(f"warning: limits not pushed to pool {pool_name}: {outcome}")
    return {**found, "items": _rows(found, pool)}  # json/yaml: the API's answer, rows too


@quotas.command("show")
@one_line_errors
@prints(columns=COLUMNS)
def show(
    tenant: TenantOpt = None,
    pool: PoolOpt = None,
    reconcile: Annotated[
        bool, typer.Option("--reconcile", help="Also compare the records with the pools")
    ] = False,
    url: UrlOpt = None,
) -> dict[str, Any]:
    """Limit, usage and reservations of each resource."""
    path = tenant_path(path="tenants/{tenant}/quotas", tenant=tenant)
    params = {"reconcile": "true"} if reconcile else None
    return _show(client(url=url).call("GET", f"/v1/{path}", params=params), pool=pool)


@quotas.command("set")
@one_line_errors
@prints(columns=COLUMNS)
def set_(
    tenant: TenantOpt = None,
    pool: PoolOpt = None,
    servers: Limit = None,
    vcpus: Limit = None,
    ram_mb: Limit = None,
    volumes: Limit = None,
    volume_gb: Limit = None,
    networks: Limit = None,
    routers: Limit = None,
    floating_ips: Limit = None,
    unset: Annotated[
        list[str] | None, typer.Option(help="Remove this resource's limit (repeatable)")
    ] = None,
    url: UrlOpt = None,
) -> dict[str, Any]:
    """Change limits platform-wide (or in --pool); the others stay. Pushed to the pools."""
    given = dict(
        servers=servers,
        vcpus=vcpus,
        ram_mb=ram_mb,
        volumes=volumes,
        volume_gb=volume_gb,
        networks=networks,
        routers=routers,
        floating_ips=floating_ips,
    )
    api = client(url=url)
    path = f"/v1/{tenant_path(path='tenants/{tenant}/quotas', tenant=tenant)}"
    current = api.call("GET", path)
    bad = sorted(set(unset or ()) - set(current["resources"]))
    if bad:
        names = ", ".join(current["resources"])
        raise typer.BadParameter(f"--unset takes one of {names}, not {bad[0]}")
    scope = current["resources"] if pool is None else current["pools"].get(pool, {})
    limits = {r: u["limit"] for r, u in scope.items() if u["limit"] is not None}
    limits |= {r: v for r, v in given.items() if v is not None}
    body = {r: v for r, v in limits.items() if r not in (unset or ())}
    answer = api.call("PUT", f"{path}/{pool}" if pool else path, json=body)
    return _show(answer, pool=pool)
