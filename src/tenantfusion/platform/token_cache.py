"""An in-process cache of validated platform tokens.

A hit skips the database on the hot path. An entry is trusted for ``CACHE_SECONDS``
whatever happens, then up to ``KEEP_SECONDS`` (never past the token's expiry) while the
cache epoch is unchanged (``coherence``): a revocation, a disabled user or tenant, a
changed role, committed on any replica, ends it once this process's watcher sees the
epoch move (within ``coherence.POLL_SECONDS``). A committed change in this process drops
every entry at once.
"""

from __future__ import annotations

from datetime import datetime

from tenantfusion import coherence
from tenantfusion.db import utcnow
from tenantfusion.metrics import TOKEN_CACHE
from tenantfusion.platform.principal import Principal
from tenantfusion.platform.security import token_digest

CACHE_SECONDS = 0.5
KEEP_SECONDS = 60.0
CACHE_MAX = 50_000
_entries: dict[str, tuple[Principal, coherence.Stamp]] = {}
_HIT, _MISS = TOKEN_CACHE.labels("hit"), TOKEN_CACHE.labels("miss")


def lookup(raw_token: str) -> Principal | None:
    """The principal of a recently validated token, or None."""
    hit = _entries.get(token_digest(raw_token))
    if hit is None or not hit[1].valid():
        _MISS.inc()
        return None
    _HIT.inc()
    return hit[0]


def remember(digest: str, principal: Principal, *, expires_at: datetime, epoch: int | None) -> None:
    """Cache a token validated by reads made while ``epoch`` was current."""
    if len(_entries) >= CACHE_MAX:
        _entries.clear()
    left = (expires_at - utcnow()).total_seconds()
    _entries[digest] = (
        principal,
        coherence.stamp(epoch=epoch, short=min(CACHE_SECONDS, left), long=min(KEEP_SECONDS, left)),
    )


def forget() -> None:
    """Drop every cached token."""
    _entries.clear()


coherence.on_change(forget)
