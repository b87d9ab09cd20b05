"""login, logout, whoami."""

from __future__ import annotations

from typing import Annotated

import typer

from tenantfusion.client import config
from tenantfusion.client.base import (
    Output,
    OutputOpt,
    UrlOpt,
    client,
    one_line_errors,
    read_secret,
)
from tenantfusion.client.http import Client, NotLoggedIn
from tenantfusion.client.output import emit, note


@one_line_errors
def login(
    username: Annotated[str, typer.Option("--username", "-u", prompt=True)],
    tenant: Annotated[
        str | None, typer.Option("--tenant", "-t", help="Tenant name; omit for platform admins")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    url: UrlOpt = None,
) -> None:
    """Log in and save the token (mode 0600) for the other commands."""
    password = read_secret(from_stdin=password_stdin, prompt="Password")
    base = config.base_url(url)
    body = {"tenant": tenant, "username": username, "password": password}
    answer = Client(url=base).call("POST", "/v1/auth/tokens", json=body, auth=False)
    saved = config.save(
        config.Login(
            url=base,
            token=answer["token"],
            tenant=tenant,
            tenant_id=(answer.get("tenant") or {}).get("id"),
            username=username,
        )
    )
    note(f"logged in to {base} as {username}{f' ({tenant})' if tenant else ''}; saved {saved}")


@one_line_errors
def logout(url: UrlOpt = None) -> None:
    """Revoke the saved token and forget it (an expired token is just forgotten)."""
    if config.load() is not None:
        try:
            client(url=url).call("DELETE", "/v1/auth/tokens")
        except NotLoggedIn:
            pass  # the server no longer knows the token: nothing to revoke
        finally:
            config.forget()
    note("logged out")


@one_line_errors
def whoami(output: OutputOpt = Output.table, url: UrlOpt = None) -> None:
    """Who the saved token belongs to."""
    emit(client(url=url).call("GET", "/v1/auth/tokens"), output=output, columns=())
