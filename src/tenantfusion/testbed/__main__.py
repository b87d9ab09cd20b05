"""`python -m tenantfusion.testbed up|down|status`: manage the local OpenStack pools."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tenantfusion.testbed import service
from tenantfusion.testbed.progress import ServiceProgress

app = typer.Typer(name="testbed", no_args_is_help=True, help="Local real-OpenStack pools.")
RootOption = Annotated[
    Path | None, typer.Option("--root", help="Test-bed folder (default: <project>/var/testbed).")
]


@app.command()
def up(
    pools: Annotated[int, typer.Option("--pools", min=1, help="Number of pools.")] = 1,
    kind: Annotated[str, typer.Option("--kind", help="keystone or full.")] = "keystone",
    root: RootOption = None,
    port_offset: Annotated[
        int | None, typer.Option("--port-offset", help="Shift all ports (multiple of 100).")
    ] = None,
) -> None:
    """Start pools 1..N (reuses running ones) and print their info as JSON (each service's
    progress on stderr)."""
    started = time.monotonic()
    with ServiceProgress(Console(stderr=True)) as shown:
        infos = service.ensure_pools(
            count=pools, kind=kind, root=root, port_offset=port_offset, report=shown.report
        )
    typer.echo(json.dumps([i.to_dict() for i in infos], indent=2))
    typer.echo(f"ready in {time.monotonic() - started:.1f} s", err=True)


@app.command()
def down(root: RootOption = None) -> None:
    """Stop every service of every pool by pid."""
    typer.echo(json.dumps({"stopped": service.stop_pools(root)}))


@app.command()
def destroy(root: RootOption = None) -> None:
    """Stop every pool and delete its folder, databases and RabbitMQ vhost."""
    typer.echo(json.dumps({"destroyed": service.destroy_pools(root)}))


@app.command()
def status(root: RootOption = None) -> None:
    """Print pools, services, pids and health as JSON."""
    typer.echo(json.dumps(service.status(root), indent=2))


if __name__ == "__main__":
    app()
