"""Render oslo.config ini files from plain dicts."""

from __future__ import annotations

from collections.abc import Mapping

Value = str | int | float | bool
Sections = Mapping[str, Mapping[str, Value]]


def _format(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(sections: Sections) -> str:
    """Return ini text, sections and keys in the order given."""
    blocks = []
    for section, options in sections.items():
        lines = [f"[{section}]", *(f"{key} = {_format(val)}" for key, val in options.items())]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
