"""Command-line entry point: assembly only, every command lives in its domain."""

from __future__ import annotations

import typer

app = typer.Typer(name="tenantfusion", no_args_is_help=True, help="tenantfusion: one tenant API over many resource pools.")


def main() -> None:
    """Run the CLI."""
    app()
