"""``tenantfusion demo``: real local pools, the server, a demo tenant, and what to try."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tenantfusion.config import Settings, get_settings
from tenantfusion.db import session_scope, upgrade
from tenantfusion.errors import Conflict
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.principal import SYSTEM
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.schemas import PoolAuthIn, PoolCreate
from tenantfusion.testbed import ensure_pools, stop_pools

console = Console()
DEMO_TENANT = "demo"
EXTRACT_TOKEN = "python3 -c 'import sys,json;print(json.load(sys.stdin)[\"token\"])'"


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


def prepare(*, pools: int, root: Path | None = None) -> tuple[dict[str, str], str]:
    """Start pools, migrate, create the admin, register pools, create the demo tenant.

    Idempotent: a second run reuses what exists. Returns the credentials and tenant id.
    """
    settings = get_settings()
    creds = _credentials(settings)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"starting {pools} real OpenStack pools (Keystone)", total=None)
        infos = ensure_pools(count=pools, kind="keystone", root=root)
        progress.update(task, description=f"{pools} pools running", completed=1, total=1)
        task = progress.add_task("migrating the database", total=None)
        upgrade(settings)
        progress.update(task, completed=1, total=1)
        task = progress.add_task("registering pools and the demo tenant", total=len(infos) + 2)
        with session_scope(settings) as db:
            try:
                platform_service.create_platform_admin(
                    db=db, username="admin", password=creds["admin"]
                )
            except Conflict:
                pass
            progress.advance(task)
            for info in infos:
                if pool_service.get(db=db, ref=info.name) is None:
                    pool_service.register(
                        db=db,
                        actor=SYSTEM,
                        settings=settings,
                        data=PoolCreate(
                            name=info.name,
                            region_name=info.region_name,
                            labels={"site": "local", "kind": info.kind},
                            auth=PoolAuthIn(
                                auth_url=info.auth_url,  # type: ignore[arg-type]
                                username=info.username,
                                password=info.password,
                                project_name=info.project_name,
                            ),
                        ),
                    )
                progress.advance(task)
            tenant = platform_service.get_tenant_by_name_or_id(db=db, ref=DEMO_TENANT)
            if tenant is None:
                tenant = platform_service.create_tenant(
                    db=db,
                    actor=SYSTEM,
                    data=TenantCreate(
                        name=DEMO_TENANT,
                        description="demo tenant",
                        admin=TenantAdmin(username="demo-admin", password=creds["tenant_admin"]),
                    ),
                )  # type: ignore[arg-type]
            progress.advance(task)
            tenant_id = tenant.id
    return creds, tenant_id


def print_next_steps(*, url: str, creds: dict[str, str], tenant_id: str) -> None:
    console.print(f"\n[bold green]tenantfusion is up[/] at {url}  (API docs: {url}/docs)")
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
        f"  2. curl -s -X PUT {url}/v1/tenants/{tenant_id}/mappings/pool1 "
        '-H "X-Auth-Token: $TOKEN"   # onboard the tenant into pool1',
        soft_wrap=True,
    )
    console.print(
        f'  3. curl -s {url}/v1/tenants/{tenant_id}/mappings -H "X-Auth-Token: $TOKEN"',
        soft_wrap=True,
    )
    console.print("\nStop with Ctrl-C; `tenantfusion demo --stop` also stops the pools.\n")


def stop(root: Path | None = None) -> None:
    stopped = stop_pools(root=root)
    console.print(f"stopped pools: {', '.join(stopped) or 'none running'}")


def run(*, host: str, port: int, pools: int, serve: bool) -> None:
    creds, tenant_id = prepare(pools=pools)
    print_next_steps(url=f"http://{host}:{port}", creds=creds, tenant_id=tenant_id)
    if serve:
        import uvicorn

        uvicorn.run(
            "tenantfusion.asgi:app", host=host, port=port, log_level="warning", access_log=False
        )
    else:
        raise typer.Exit(0)
