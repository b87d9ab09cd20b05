"""api-keys: create (shown once; --save signs later commands with it), list, show, delete."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tenantfusion.client import config
from tenantfusion.client.base import UrlOpt, client, one_line_errors, prints
from tenantfusion.client.group import resource_group
from tenantfusion.client.http import NotLoggedIn
from tenantfusion.client.output import note

api_keys = resource_group(
    name="api-keys",
    path="api-keys",
    columns=("key_id", "name", "created_at", "expires_at", "revoked_at"),
    help="Your API keys (requests signed per RFC 9421 instead of a token).",
    ref="key",
)


@api_keys.command("create")
@one_line_errors
@prints()
def create_api_key(
    name: str,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Default 90; 0 for never")
    ] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Sign the following commands with this key")
    ] = False,
    url: UrlOpt = None,
) -> Any:
    """Create a key; its secret is shown once (and saved, mode 0600, with --save)."""
    body: dict[str, object] = {"name": name}
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days or None
    answer = client(url=url).call("POST", "/v1/api-keys", json=body)
    if save:
        saved = config.load()
        if saved is None:  # client() refused already: no saved login to add the key to
            raise NotLoggedIn("not logged in: run `tenantfusion login` first")
        path = config.save(
            config.Login(
                url=config.base_url(url),
                tenant=saved.tenant,
                tenant_id=saved.tenant_id,
                username=saved.username,
                api_key_id=answer["key_id"],
                api_key_secret=answer["secret"],
            )
        )
        note(f"saved key {answer['key_id']} in {path}; commands now sign with it")
    return answer
