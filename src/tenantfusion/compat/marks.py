"""Facade answers do not show the platform's marks: record tags on Nova and Neutron objects
(``tags.py``) and a server's ``tf_record`` metadata (``metadata.py``). An answer holding
neither is passed on unparsed; one holding any is parsed once."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from tenantfusion.compat import metadata, tags

#: JSON key → (what an answer showing the mark there holds, what the value there keeps).
_RULES: dict[str, tuple[bytes, Callable[[Any], Any]]] = {
    "tags": (tags.MARK, tags.theirs),
    "metadata": (metadata.MARK, metadata.theirs),  # Nova's only
}


def _strip(value: Any, rules: Mapping[str, Callable[[Any], Any]]) -> Any:
    if isinstance(value, dict):
        return {k: rules[k](v) if k in rules else _strip(v, rules) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v, rules) for v in value]
    return value


def hide(raw: bytes, *, service: str) -> bytes:
    """A JSON answer of ``service`` without the platform's marks."""
    rules = {
        key: keeps
        for key, (sign, keeps) in _RULES.items()
        if sign in raw and (key != "metadata" or service == "compute")
    }
    if not rules:
        return raw
    try:
        parsed = json.loads(raw)
    except ValueError:
        return raw
    return json.dumps(_strip(parsed, rules)).encode()
