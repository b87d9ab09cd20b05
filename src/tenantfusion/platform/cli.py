"""``tenantfusion admin``: local administration commands (run on the server host)."""

from __future__ import annotations

import sys

import typer

admin_app = typer.Typer(no_args_is_help=True, help="Administer this installation directly.")


@admin_app.command("create")
def create_admin(
    username: str = typer.Option(..., help="Platform administrator's username"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input"
    ),
) -> None:
    """Create a platform administrator (migrates the database first)."""
    from tenantfusion.db import session_scope, upgrade
    from tenantfusion.platform import service

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        typer.echo("error: the password needs at least 8 characters", err=True)
        raise typer.Exit(2)
    upgrade()
    with session_scope() as db:
        user = service.create_platform_admin(db=db, username=username, password=password)
        typer.echo(f"created platform admin {user.username} ({user.id})")
