"""``-f table|json|yaml|value|csv`` and ``-c COLUMN``, as python-openstackclient has them;
notes and warnings go to stderr so stdout stays machine-readable.

A page (``items``) prints one row per item in the list's columns; one object prints its
fields (``table``: field/value rows; ``value``: one value per line; ``csv``: a header and
one row). ``-c`` picks and orders the columns or fields; ``json`` and ``yaml`` print the
API's answer as it came, each object narrowed to the ``-c`` fields. ``value`` prints bare
values separated by spaces, one row per line; ``csv`` has a header and quotes text.
"""

from __future__ import annotations

import csv
import enum
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from tenantfusion.client.http import UsageError

out = Console()
err = Console(stderr=True)


class Format(enum.StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"
    value = "value"
    csv = "csv"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def _choose(
    pick: Sequence[str] | None, *, default: Sequence[str], known: Iterable[str]
) -> list[str]:
    """``pick`` (in its order) or ``default``. Raises UsageError on a column not known."""
    if not pick:
        return list(default)
    names = set(known)
    unknown = [c for c in pick if c not in names]
    if unknown:
        choices = ", ".join(sorted(names))
        raise UsageError(f"unknown column {unknown[0]!r} (columns: {choices})")
    return list(pick)


def _narrow(item: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {f: item.get(f) for f in fields}


def _dump(doc: Any, fmt: Format) -> None:
    if fmt is Format.json:
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False))


def _table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "", labels: bool = True
) -> None:
    table = Table(*header, title=title or None, show_header=labels)
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    for column in table.columns:
        column.overflow = "fold"  # wrap, never cut an id short
    # not a terminal: as wide as the rows need, one line each (for grep and friends)
    (out if out.is_terminal else Console(width=10_000)).print(table)


def _csv_value(value: Any) -> Any:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return value if numeric else _cell(value)


def _rows(header: Sequence[str], rows: Sequence[Sequence[Any]], fmt: Format, title: str) -> None:
    """Rows in ``table``, ``value`` or ``csv``."""
    if fmt is Format.table:
        _table(header, rows, title=title)
    elif fmt is Format.value:
        for row in rows:
            sys.stdout.write(" ".join(_cell(v) for v in row) + "\n")
    else:
        writer = csv.writer(sys.stdout, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([_csv_value(v) for v in row] for row in rows)


def emit(
    data: Any, *, fmt: Format, columns: Sequence[str] = (), pick: Sequence[str] | None = None
) -> None:
    """Print a page (its ``items`` in ``pick`` or ``columns``) or one object (its fields, or
    ``pick``) in ``fmt``. Raises UsageError when ``pick`` names a column the answer lacks
    (an empty page accepts any)."""
    items = data.get("items") if isinstance(data, dict) else None
    if isinstance(items, list):
        # an empty page has no fields to check a column against: it accepts any
        known = {*columns, *(key for item in items for key in item)} if items else set(pick or ())
        chosen = _choose(pick, default=columns, known=known)
        if fmt in (Format.json, Format.yaml):
            _dump({**data, "items": [_narrow(i, chosen) for i in items]} if pick else data, fmt)
        else:
            _rows(chosen, [[i.get(c) for c in chosen] for i in items], fmt, title="")
        return
    fields = _choose(pick, default=list(data), known=data)
    if fmt in (Format.json, Format.yaml):
        _dump(_narrow(data, fields) if pick else data, fmt)
    elif fmt is Format.table:
        _table(("field", "value"), [(f, data.get(f)) for f in fields], labels=False)
    elif fmt is Format.value:
        _rows((), [[data.get(f)] for f in fields], fmt, title="")
    else:
        _rows(fields, [[data.get(f) for f in fields]], fmt, title="")


def emit_sections(
    sections: Mapping[str, tuple[Sequence[str], list[dict[str, Any]]]], *, fmt: Format
) -> None:
    """Several named lists on one screen (``name -> (columns, rows)``): titled tables; one
    json/yaml document ``{name: rows}``; ``value`` rows start with their section's name;
    ``csv`` gives each section its header, a blank line between sections."""
    if fmt in (Format.json, Format.yaml):
        _dump(
            {name: [_narrow(r, cols) for r in rows] for name, (cols, rows) in sections.items()}, fmt
        )
        return
    for index, (name, (header, rows)) in enumerate(sections.items()):
        cells = [[row.get(c) for c in header] for row in rows]
        if fmt is Format.value:
            cells = [[name, *row] for row in cells]
        elif fmt is Format.csv and index:
            sys.stdout.write("\n")
        _rows(header, cells, fmt, title=name)


def note(message: str) -> None:
    """One plain line on stderr (never markup, never wrapped)."""
    err.print(message, markup=False, highlight=False, soft_wrap=True)


def warn_partial(page: dict[str, Any]) -> None:
    """One stderr line per pool whose answer is missing from a merged list."""
    for pool, outcome in (page.get("pools") or {}).items():
        if outcome != "ok":
            note(f"warning: pool {pool} {outcome}: the list is partial")
