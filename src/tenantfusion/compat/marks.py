"""Facade answers do not show the platform's marks: record tags on Nova and Neutron objects
(``tags.py``) and a server's ``tf_record`` metadata (``metadata.py``).

An answer holding neither is passed on as it is. In one holding any, only the fields that
can carry a mark are edited, where they stand: each ``"tags"`` list of strings and (Nova's
only) each ``"metadata"`` object of strings is parsed, stripped and written back; the
rest of the answer is not parsed (a list of servers is most of a server list's CPU
otherwise). A field is edited only where it is a key of the document: a quote inside a
JSON string is escaped, so ``"tags"`` preceded by ``{``, ``,`` or whitespace and followed
by ``:`` can only be a key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tenantfusion.compat import metadata, tags

#: JSON key → (what an answer showing the mark there holds, what the value there keeps).
_RULES: dict[bytes, tuple[bytes, Callable[[Any], Any]]] = {
    b"tags": (tags.MARK, tags.theirs),
    b"metadata": (metadata.MARK, metadata.theirs),  # Nova's only
}
_STR = rb'"(?:[^"\\]|\\.)*"'
_FIELD = re.compile(
    rb'"(?P<key>tags|metadata)"\s*:\s*(?P<value>'
    rb"\[\s*(?:" + _STR + rb"\s*(?:,\s*" + _STR + rb"\s*)*)?\]"  # a list of strings
    rb"|\{\s*(?:"
    + _STR
    + rb"\s*:\s*"
    + _STR
    + rb"\s*(?:,\s*"
    + _STR
    + rb"\s*:\s*"
    + _STR
    + rb"\s*)*)?\})"  # an object of strings
)
_BEFORE_KEY = frozenset(b"{, \t\r\n")


def hide(raw: bytes, *, service: str) -> bytes:
    """A JSON answer of ``service`` without the platform's marks."""
    rules = {
        key: keeps
        for key, (sign, keeps) in _RULES.items()
        if sign in raw and (key != b"metadata" or service == "compute")
    }
    if not rules:
        return raw

    def edited(m: re.Match[bytes]) -> bytes:
        keeps = rules.get(m["key"])
        start = m.start()
        if keeps is None or start == 0 or raw[start - 1] not in _BEFORE_KEY:
            return m[0]
        value = json.loads(m["value"])
        return m[0][: m.start("value") - start] + json.dumps(keeps(value)).encode()

    return _FIELD.sub(edited, raw)
