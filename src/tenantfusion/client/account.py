"""login, logout, whoami."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tenantfusion.client import config
from tenantfusion.client.base import Output, OutputOpt, UrlOpt, client, one_line_errors
from tenantfusion.client.http import Client
from tenantfusion.client.output import emit, err


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
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True)
    )
    base = config.base_url(url)
    body = {"tenant": tenant, "username": username, "password": password}
    answer = Client(base).call("POST", "/v1/auth/tokens", json=body, auth=False)
    saved = config.save(
        config.Login(
            url=base,
            token=answer["token"],
            tenant=tenant,
            tenant_id=(answer.get("tenant") or {}).get("id"),
            username=username,
        )
    )
    err.print(f"logged in to {base} as {username}{f' ({tenant})' if tenant else ''}; saved {saved}")


@one_line_errors
def logout(url: UrlOpt = None) -> None:
    """Revoke the saved token and forget it."""
    if config.load() is not None:
        try:
            client(url).call("DELETE", "/v1/auth/tokens")
        finally:
            config.forget()
    err.print("logged out")


@one_line_errors
def whoami(output: OutputOpt = Output.table, url: UrlOpt = None) -> None:
    """Who the saved token belongs to."""
    emit(client(url).call("GET", "/v1/auth/tokens"), output=output, columns=())
