"""Named profiles, one saved login each: ``--profile`` (``$TENANTFUSION_PROFILE``) picks
one for a command; ``profile list|show|use|delete`` manage them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tenantfusion.client import config
from tenantfusion.client.base import EXIT_CODES, one_line_errors, prints
from tenantfusion.client.http import UsageError
from tenantfusion.client.output import note

profile = typer.Typer(
    name="profile",
    help="Named profiles: one saved login (URL, token or API key) each.",
    no_args_is_help=True,
    epilog=EXIT_CODES,
)
COLUMNS = ("name", "in_use", "url", "username", "tenant", "auth")


def _profile_name(value: str | None) -> str | None:
    try:
        config.select(value)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    return value


ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        envvar="TENANTFUSION_PROFILE",
        callback=_profile_name,
        help="Use this profile's saved login (default: the one in use, else 'default')",
    ),
]
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Profile name")]


def select_profile(profile: ProfileOpt = None) -> None:
    """The global options (the app's callback): ``--profile``."""


def _existing(name: str) -> config.Login:
    """Profile ``name``'s login. Raises UsageError when there is none."""
    login = config.load(name) if config.PROFILE_NAME.fullmatch(name) else None
    if login is None:
        raise UsageError(f"no profile {name!r} (known: {', '.join(config.names()) or 'none'})")
    return login


def _describe(name: str, login: config.Login) -> dict[str, Any]:
    """What a profile holds, without its token or secret."""
    auth = f"api key {login.api_key_id}" if login.api_key_id else "token" if login.token else ""
    return {
        "name": name,
        "in_use": name == config.current(),
        "url": login.url,
        "username": login.username,
        "tenant": login.tenant,
        "tenant_id": login.tenant_id,
        "auth": auth,
        "path": str(config.profile_path(name)),
    }


@profile.command("list")
@one_line_errors
@prints(columns=COLUMNS)
def list_profiles() -> Any:
    """The profiles and which one is in use."""
    return {"items": [_describe(name, _existing(name)) for name in config.names()]}


@profile.command("show")
@one_line_errors
@prints()
def show_profile(
    name: Annotated[str | None, typer.Argument(metavar="[NAME]", help="Default: in use")] = None,
) -> Any:
    """One profile (never its token or secret)."""
    name = name or config.current()
    return _describe(name, _existing(name))


@profile.command("use")
@one_line_errors
def use_profile(name: NameArg) -> None:
    """Use this profile for the following commands (``--profile`` still overrides)."""
    _existing(name)
    config.use(name)
    note(f"profile {name} is in use")


@profile.command("delete")
@one_line_errors
def delete_profile(name: NameArg) -> None:
    """Forget a profile's saved login here (``--profile NAME logout`` also revokes it)."""
    _existing(name)
    config.forget(name)
    note(f"deleted profile {name}")
