"""Command-line entry point: assembly only, every command lives in its domain."""

from __future__ import annotations

import typer

from tenantfusion.dvr.cli import app as dvr_app

app = typer.Typer(name="tenantfusion", no_args_is_help=True, help="tenantfusion: one tenant API over many resource pools.")
app.add_typer(dvr_app, name="dvr")


def main() -> None:
    """Run the CLI."""
    app()
