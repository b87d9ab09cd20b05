"""Small pieces of console pages drawn in Python: status badges, times, addresses and POST
buttons. A list page has up to 1,000 rows; a Jinja macro call per cell costs a new frame
and context each time, a plain call does not.

Markup is built only as ``Markup(literal) % values``, which escapes every value that is
not already ``Markup`` (markupsafe's escaping, the same as Jinja's autoescape), and comes
back as ``Markup`` so Jinja does not escape it twice. The macros of the same names in
``_macros.html`` call these, so each piece's HTML is written once. ``FILTERS`` and
``GLOBALS`` are what the template environment gets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from markupsafe import Markup

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


BADGE = Markup('<span class="status s-%s">%s</span>')
BUTTON = Markup(
    '<form method="post" action="%s" class="inline"%s>\n'
    '  <input type="hidden" name="csrf_token" value="%s">\n'
    "%s"
    '  <button type="submit" class="%s"%s>%s</button>\n'
    "</form>\n"
)
CONFIRM = Markup(' data-confirm="%s"')
HIDDEN = Markup('<input type="hidden" name="%s" value="%s">')
ARIA = Markup(' aria-label="%s"')


def badge(value: str) -> Markup:
    """A status as a badge (its class is the status in lower case)."""
    return BADGE % (value.lower(), value)


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
    hidden = Markup("").join(
        HIDDEN % item for item in sorted((fields or {}).items(), key=lambda i: i[0].lower())
    )
    return BUTTON % (
        action,
        CONFIRM % confirm if confirm else "",
        csrf,
        hidden,
        kind,
        ARIA % aria if aria else "",
        label,
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
