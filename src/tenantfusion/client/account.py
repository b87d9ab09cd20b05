"""login, logout, whoami."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tenantfusion.client import config
from tenantfusion.client.base import (
    UrlOpt,
    client,
    one_line_errors,
    prints,
    read_secret,
)
from tenantfusion.client.http import Client, NotLoggedIn
from tenantfusion.client.output import note


def _login_with_key(*, key_id: str, from_stdin: bool, base: str) -> None:
    from tenantfusion.client.signing import ApiKeyAuth

    secret = read_secret(from_stdin=from_stdin, prompt="API key secret")
    me = Client(url=base, auth=ApiKeyAuth(key_id=key_id, secret=secret)).call(
        "GET", "/v1/auth/tokens", auth=False
    )
    saved = config.save(
        config.Login(
            url=base,
            tenant_id=me.get("tenant_id"),
            username=me["username"],
            api_key_id=key_id,
            api_key_secret=secret,
        )
    )
    note(f"requests to {base} are signed with key {key_id} ({me['username']}); saved {saved}")


@one_line_errors
def login(
    username: Annotated[str | None, typer.Option("--username", "-u")] = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", "-t", help="Tenant name; omit for platform admins")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    api_key_id: Annotated[
        str | None, typer.Option("--api-key-id", help="Sign requests with this API key")
    ] = None,
    api_key_secret_stdin: Annotated[
        bool, typer.Option("--api-key-secret-stdin", help="Read the key's secret from stdin")
    ] = False,
    url: UrlOpt = None,
) -> None:
    """Log in and save the token (mode 0600) for the other commands; or, with
    --api-key-id, save an API key that signs every request (RFC 9421)."""
    base = config.base_url(url)
    if api_key_id:
        _login_with_key(key_id=api_key_id, from_stdin=api_key_secret_stdin, base=base)
        return
    username = username or str(typer.prompt("Username"))
    password = read_secret(from_stdin=password_stdin, prompt="Password")
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
@prints()
def whoami(url: UrlOpt = None) -> Any:
    """Who the saved token belongs to."""
    return client(url=url).call("GET", "/v1/auth/tokens")
