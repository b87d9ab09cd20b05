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


@admin_app.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored secret under the newest key of TENANTFUSION_SECRET_KEY
    (newest first, e.g. ``NEW,OLD``), in one transaction; then ``OLD`` can be dropped."""
    from tenantfusion.config import get_settings
    from tenantfusion.db import session_scope, upgrade
    from tenantfusion.platform.keys import rotate_all

    settings = get_settings()
    upgrade(settings)
    with session_scope(settings) as db:
        counts = rotate_all(db=db, settings=settings)
    done = ", ".join(f"{name}: {n}" for name, n in counts.items())
    typer.echo(f"re-encrypted under the newest key ({done})")
