"""``--output table|json``: a Rich table of chosen columns, or the API's JSON; notes and
warnings go to stderr so stdout stays machine-readable."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def emit(data: Any, *, output: str, columns: Sequence[str]) -> None:
    """Print one object (field/value rows) or a page (``items`` in ``columns``) as a table,
    or the API's JSON as it came."""
    if output == "json":
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    rows = data.get("items") if isinstance(data, dict) and "items" in data else None
    if rows is None:
        table = Table("field", "value", show_header=False)
        for key, value in (data or {}).items():
            table.add_row(key, _cell(value))
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in columns))
    for column in table.columns:
        column.overflow = "fold"  # wrap, never cut an id short
    # not a terminal: as wide as the rows need, one line each (for grep and friends)
    (out if out.is_terminal else Console(width=10_000)).print(table)


def note(message: str) -> None:
    """One plain line on stderr (never markup, never wrapped)."""
    err.print(message, markup=False, highlight=False, soft_wrap=True)


def warn_partial(page: dict[str, Any]) -> None:
    """One stderr line per pool whose answer is missing from a merged list."""
    for pool, outcome in (page.get("pools") or {}).items():
        if outcome != "ok":
            note(f"warning: pool {pool} {outcome}: the list is partial")
