"""Command-line entry point: assembly only, every command lives in its domain."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tenantfusion.audit.cli import verify as audit_verify
from tenantfusion.client import account, api_keys, profiles, quotas, resources, status, tenancy
from tenantfusion.client.base import EXIT_CODES
from tenantfusion.dvr.cli import app as dvr_app
from tenantfusion.errors import TenantFusionError
from tenantfusion.platform.cli import admin_app

app = typer.Typer(
    name="tenantfusion",
    pretty_exceptions_enable=False,
    add_completion=True,
    no_args_is_help=True,
    help="tenantfusion: one tenant API over many resource pools.",
    epilog=EXIT_CODES,
)
app.callback()(profiles.select_profile)
app.add_typer(admin_app, name="admin")
app.add_typer(dvr_app, name="dvr")
for command in (account.login, account.logout, account.whoami, status.status):
    app.command(epilog=EXIT_CODES)(command)
for group in (
    profiles.profile,
    tenancy.tenants,
    tenancy.users,
    tenancy.pools,
    tenancy.mappings,
    quotas.quotas,
    api_keys.api_keys,
    resources.servers,
    resources.networks,
    resources.subnets,
    resources.routers,
    resources.floating_ips,
    resources.volumes,
    resources.flavors,
    resources.images,
    tenancy.jobs,
    tenancy.audit,
):
    app.add_typer(group, rich_help_panel="Client (over the HTTP API)")
tenancy.audit.command("verify")(audit_verify)


@app.command()
def migrate() -> None:
    """Apply database migrations up to head."""
    from tenantfusion.db import upgrade

    upgrade()
    typer.echo("database is at head")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind"),
    port: int = typer.Option(8080, help="Port to bind"),
    workers: int = typer.Option(1, help="Worker processes (the job worker runs in each)"),
) -> None:
    """Run the API, the job worker and the console (migrations run first)."""
    import uvicorn

    from tenantfusion.config import get_settings
    from tenantfusion.crypto import require_keys
    from tenantfusion.db import upgrade
    from tenantfusion.logging import configure

    settings = get_settings()
    configure(settings.log_level)
    try:
        require_keys(settings)
    except TenantFusionError as e:
        typer.echo(f"error: {e.detail}", err=True)
        raise typer.Exit(1) from e
    upgrade(settings)
    uvicorn.run(
        "tenantfusion.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        http="httptools",
        loop="uvloop",
        timeout_keep_alive=settings.http_keep_alive_seconds,
    )


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="Address to bind"),
    port: int = typer.Option(8080, help="Port to bind"),
    pools: int = typer.Option(2, min=1, max=8, help="How many local pools"),
    kind: str = typer.Option(
        "full", help="full: Keystone+Nova+Neutron+Placement+Glance; keystone: identity only"
    ),
    stop: bool = typer.Option(False, "--stop", help="Stop the demo's pools and exit"),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare everything, don't serve"),
    testbed_root: Path | None = typer.Option(
        None, "--testbed-root", help="The pools' folder (default: <project>/var/testbed)"
    ),
) -> None:
    """Start local real OpenStack pools and the server, with a demo tenant ready to use."""
    from tenantfusion import demo as demo_flow
    from tenantfusion.logging import configure

    if stop:
        demo_flow.stop(root=testbed_root)
        return
    configure("WARNING")
    if kind not in demo_flow.SERVICES:
        raise typer.BadParameter(f"--kind must be one of {', '.join(demo_flow.SERVICES)}")
    demo_flow.run(
        host=host, port=port, pools=pools, kind=kind, serve=not no_serve, root=testbed_root
    )


def main() -> None:
    """Run the CLI; domain errors become one line on stderr and exit 1."""
    try:
        app()
    except TenantFusionError as e:
        typer.echo(f"error: {e.detail}", err=True)
        sys.exit(1)
