"""``tenantfusion demo``: real local pools, the server, a demo tenant, and what to try."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

import typer
from pydantic import SecretStr
from rich.console import Console

from tenantfusion.config import Settings, get_settings
from tenantfusion.db import session_scope, upgrade
from tenantfusion.errors import Conflict
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.principal import SYSTEM
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.schemas import PoolAuthIn, PoolCreate, PoolUpdate
from tenantfusion.testbed import ensure_pools, stop_pools
from tenantfusion.testbed.progress import ServiceProgress, Step
from tenantfusion.testbed.registry import KIND_SERVICES

console = Console()
DEMO_TENANT = "demo"
EXTRACT_TOKEN = "python3 -c 'import sys,json;print(json.load(sys.stdin)[\"token\"])'"  # noqa: S105 - a shell snippet printed for the user, not a secret


DATABASE = ("tenantfusion", "database")
REGISTRY = ("tenantfusion", "registry")
DEMO_ROWS = (DATABASE, REGISTRY)
SERVICES = {
    "full": "Keystone, Nova, Neutron, Placement, Glance",
    "keystone": "Keystone only",
}


def _cidr(index: int) -> str:
    """Each demo pool gives new tenants a default network in its own range."""
    return f"10.{20 + index}.0.0/24"


def _credentials(settings: Settings) -> dict[str, str]:
    """Demo passwords: generated once, kept in the data dir (mode 0600)."""
    path = settings.data_dir / "demo-credentials.json"
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    data = {"admin": secrets.token_urlsafe(12), "tenant_admin": secrets.token_urlsafe(12)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    return data


def prepare(
    *, pools: int, kind: str = "full", root: Path | None = None
) -> tuple[dict[str, str], str]:
    """Start pools, migrate, create the admin, register pools, create the demo tenant.

    Idempotent: a second run reuses what exists. Returns the credentials and tenant id.
    """
    settings = get_settings()
    creds = _credentials(settings)
    rows = [(f"pool{i}", name) for i in range(1, pools + 1) for name in KIND_SERVICES[kind]]
    with ServiceProgress(console, rows=[*rows, *DEMO_ROWS]) as shown:
        infos = ensure_pools(count=pools, kind=kind, root=root, report=shown.report)
        shown.report(Step(*DATABASE, "migrating"))
        upgrade(settings)
        shown.report(Step(*DATABASE, "at head", done=True))
        shown.report(Step(*REGISTRY, "registering"))
        with session_scope(settings) as db:
            try:
                platform_service.create_platform_admin(
                    db=db, username="admin", password=creds["admin"]
                )
            except Conflict:
                pass
            for index, info in enumerate(infos):
                existing = pool_service.get(db=db, ref=info.name)
                auth = PoolAuthIn(
                    auth_url=info.auth_url,  # type: ignore[arg-type]
                    username=info.username,
                    password=info.password,  # type: ignore[arg-type]
                    project_name=info.project_name,
                )
                if existing is not None:
                    # a rerun: the pool may have been rebuilt (new admin password) or have
                    # grown from keystone to full; update re-verifies and re-discovers
                    pool_service.update(
                        db=db,
                        actor=SYSTEM,
                        pool=existing,
                        data=PoolUpdate(auth=auth, default_network_cidr=_cidr(index)),  # type: ignore[arg-type]
                        settings=settings,
                    )
                else:
                    pool_service.register(
                        db=db,
                        actor=SYSTEM,
                        settings=settings,
                        data=PoolCreate(
                            name=info.name,
                            region_name=info.region_name,
                            labels={"site": "local", "zone": f"zone-{index + 1}"},
                            default_network_cidr=_cidr(index),  # type: ignore[arg-type]
                            auth=auth,
                        ),
                    )
                shown.report(Step(*REGISTRY, f"{index + 1}/{len(infos)} pools registered"))
            tenant = platform_service.get_tenant_by_name_or_id(db=db, ref=DEMO_TENANT)
            if tenant is None:
                tenant = platform_service.create_tenant(
                    db=db,
                    actor=SYSTEM,
                    data=TenantCreate(
                        name=DEMO_TENANT,
                        description="demo tenant",
                        admin=TenantAdmin(
                            username="demo-admin", password=SecretStr(creds["tenant_admin"])
                        ),
                    ),
                )
            tenant_id = tenant.id
        shown.report(Step(*REGISTRY, f"pools, tenant {DEMO_TENANT}", done=True))
    return creds, tenant_id


def print_next_steps(*, url: str, creds: dict[str, str], tenant_id: str) -> None:
    console.print(f"\n[bold green]tenantfusion is up[/] at {url}")
    console.print(f"  API docs       : {url}/docs")
    console.print(f"  platform admin : admin / {creds['admin']}")
    console.print(
        f"  tenant admin   : tenant [bold]{DEMO_TENANT}[/], demo-admin / {creds['tenant_admin']}"
    )
    console.print("\nTry:")
    login = (
        f"curl -s -X POST {url}/v1/auth/tokens -H 'content-type: application/json' "
        f'-d \'{{"tenant":"{DEMO_TENANT}","username":"demo-admin",'
        f'"password":"{creds["tenant_admin"]}"}}\''
    )
    console.print(
        f"  1. TOKEN=$({login} | {EXTRACT_TOKEN})",
        soft_wrap=True,
    )
    console.print(
        f'  2. curl -s -X POST {url}/v1/servers -H "X-Auth-Token: $TOKEN" '
        "-H 'content-type: application/json' "
        '-d \'{"name":"web-1","pool":"pool1","flavor":"m1.nano","image":"cirros-tiny"}\''
        "   # onboards the tenant into pool1 and boots a server, in one call",
        soft_wrap=True,
    )
    console.print(
        f'  3. curl -s {url}/v1/servers -H "X-Auth-Token: $TOKEN"   # merged across pools',
        soft_wrap=True,
    )
    console.print(f"\nConsole: {url}/console  (log in as either user above)")
    console.print("\nStop with Ctrl-C; `tenantfusion demo --stop` also stops the pools.\n")


def stop(root: Path | None = None) -> None:
    stopped = stop_pools(root=root)
    console.print(f"stopped pools: {', '.join(stopped) or 'none running'}")


def run(
    *, host: str, port: int, pools: int, kind: str, serve: bool, root: Path | None = None
) -> None:
    started = time.monotonic()
    creds, tenant_id = prepare(pools=pools, kind=kind, root=root)
    console.print(f"ready in {time.monotonic() - started:.0f} s")
    print_next_steps(url=f"http://{host}:{port}", creds=creds, tenant_id=tenant_id)
    if serve:
        import uvicorn

        uvicorn.run(
            "tenantfusion.asgi:app", host=host, port=port, log_level="warning", access_log=False
        )
    else:
        raise typer.Exit(0)
