"""Small pieces of console pages drawn in Python: status badges, times, addresses and POST
buttons. A list page has up to 1,000 rows; a Jinja macro call per cell costs a new frame
and context each time, a plain call does not.

Every value goes through ``markupsafe.escape`` (what Jinja's autoescape uses) where it
is put into markup (hence the ``noqa: S704``: the f-strings below interpolate only escaped
values; ``Markup % values`` would escape too but costs twice the time), and the pieces
come back as ``Markup`` so Jinja does not escape them twice. The macros of the same names in
``_macros.html`` call these, so each piece's HTML is written once. ``FILTERS`` and
``GLOBALS`` are what the template environment gets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from markupsafe import Markup, escape

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
NONE = "—"


class Listed(Protocol):
    """What a Delete button needs of a listed object."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def pool(self) -> str: ...


def when(value: datetime | None) -> str:
    """A time as the console shows it (UTC, to the second), or a dash."""
    return value.strftime(TIME_FORMAT) if value else NONE


def addresses(value: Mapping[str, list[str]]) -> str:
    """A server's addresses: ``net: a, b; other: c`` (networks in name order)."""
    nets = sorted(value.items(), key=lambda item: item[0].lower())
    return "; ".join(f"{net}: {', '.join(addrs)}" for net, addrs in nets)


def badge(value: str) -> Markup:
    """A status as a badge (its class is the status in lower case)."""
    return Markup(f'<span class="status s-{escape(value.lower())}">{escape(value)}</span>')  # noqa: S704


def button(
    csrf: str,
    action: str,
    label: str,
    kind: str = "",
    confirm: str = "",
    fields: Mapping[str, Any] | None = None,
    aria: str = "",
) -> Markup:
    """A one-button POST form carrying the session's CSRF token and hidden ``fields``;
    ``confirm`` is asked first (console.js), ``aria`` labels the button for screen
    readers."""
    asks = f' data-confirm="{escape(confirm)}"' if confirm else ""
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in sorted((fields or {}).items(), key=lambda item: item[0].lower())
    )
    labelled = f' aria-label="{escape(aria)}"' if aria else ""
    return Markup(  # noqa: S704
        f'<form method="post" action="{escape(action)}" class="inline"{asks}>\n'
        f'  <input type="hidden" name="csrf_token" value="{escape(csrf)}">\n'
        f"{hidden}"
        f'  <button type="submit" class="{escape(kind)}"{labelled}>{escape(label)}</button>\n'
        "</form>\n"
    )


def delete_button(csrf: str, noun: str, segment: str, item: Listed) -> Markup:
    """A list row's Delete button: ``/console/<segment>/<id>/delete``, confirmed first."""
    return button(
        csrf,
        f"/console/{segment}/{item.id}/delete",
        "Delete",
        "danger",
        f"Delete {noun} {item.name} in pool {item.pool}?",
        aria=f"Delete {noun} {item.name}",
    )


FILTERS: dict[str, Callable[..., Any]] = {"when": when, "addresses": addresses, "badge": badge}
GLOBALS: dict[str, Callable[..., Any]] = {"form_button": button, "delete_button": delete_button}
