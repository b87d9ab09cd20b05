"""A short-lived, in-process cache of validated platform tokens.

A hit skips the database on the hot path. Revocation in this process forgets entries at
once; other replicas see a revocation within ``CACHE_SECONDS`` (the trade Keystone's own
token cache makes).
"""

from __future__ import annotations

import time
from datetime import datetime

from tenantfusion.db import utcnow
from tenantfusion.platform.principal import Principal
from tenantfusion.platform.security import token_digest

CACHE_SECONDS = 0.5
CACHE_MAX = 50_000
_entries: dict[str, tuple[Principal, float]] = {}


def lookup(raw_token: str) -> Principal | None:
    """The principal of a recently validated token, or None."""
    hit = _entries.get(token_digest(raw_token))
    if hit is None or hit[1] < time.monotonic():
        return None
    return hit[0]


def remember(digest: str, principal: Principal, *, expires_at: datetime) -> None:
    """Cache a validated token until CACHE_SECONDS pass or it expires, whichever is first."""
    if len(_entries) >= CACHE_MAX:
        _entries.clear()
    ttl = min(CACHE_SECONDS, (expires_at - utcnow()).total_seconds())
    _entries[digest] = (principal, time.monotonic() + ttl)


def forget(*, digest: str | None = None) -> None:
    """Drop one cached token, or all of them (a user or tenant was disabled)."""
    if digest is None:
        _entries.clear()
    else:
        _entries.pop(digest, None)
