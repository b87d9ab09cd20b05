"""The audit trail's hash chain: each entry carries the hash of the one before it.

``entry_hash`` is a SHA-256 over the previous hash and a canonical JSON of the entry's
fields, so editing, deleting or reordering any row breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
#: The fields covered by the hash, in a fixed order.
FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "tenant_id",
    "action",
    "target_kind",
    "target_id",
    "result",
    "error_type",
    "request_id",
    "source",
    "detail",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def normalise_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """``detail`` as plain JSON (what the database gives back), so hashes are stable."""
    value: dict[str, Any] = json.loads(json.dumps(dict(detail or {}), default=str))
    return value


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The hash of one entry chained on ``prev_hash``."""
    body = {name: _canonical(fields.get(name)) for name in FIELDS}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()
