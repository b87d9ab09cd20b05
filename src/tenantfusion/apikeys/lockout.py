"""Rejected signatures throttled like password logins (``platform.throttle``, same
table, limits and back-off): counted per key id (``sig:key:<key id>``) and per source
address (``sig:addr:<address>``); while either is locked, signed requests answer 429 with
Retry-After before any verification. Each counted rejection is audited (key id, reason,
source; never a signature or secret).

A ``Lockout`` (one per application) keeps the lock state of a key CACHE_SECONDS, so a
valid request costs no database read; a lockout set on another replica applies here
within that time.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tenantfusion.apikeys.signing import Message
from tenantfusion.audit import service as audit_service
from tenantfusion.config import Settings
from tenantfusion.platform import throttle

CACHE_SECONDS = 1.0
#: Past this many cached keys the cache starts over (many source addresses).
CACHE_MAX = 10_000
_KEYID = re.compile(r';keyid="([!#-\[\]-~]{1,64})"')


def keys_of(*, message: Message, source: str | None) -> tuple[str | None, list[str]]:
    """The key id a request claims to be signed with (if it names one) and its counters."""
    fields = [v for n, v in message.headers.items() if n.lower() == "signature-input"]
    found = _KEYID.search(fields[0]) if len(fields) == 1 else None
    key_id = found[1] if found else None
    return key_id, counters(key_id=key_id, source=source)


def counters(*, key_id: str | None, source: str | None) -> list[str]:
    """The throttle counters of a key id and a source address (either may be unknown)."""
    keys = [f"sig:key:{key_id}"[:200]] if key_id else []
    return keys + ([f"sig:addr:{source}"[:200]] if source else [])


def record_failure(
    sessions: sessionmaker[Session],
    settings: Settings,
    keys: list[str],
    key_id: str | None,
    reason: str,
    source: str | None,
) -> dict[str, datetime | None]:
    with sessions.begin() as db:
        until = throttle.fail(db=db, keys=keys, settings=settings)
        audit_service.record(
            db=db,
            actor=None,
            action="api_key.signature_rejected",
            target_kind="api_key",
            target_id=key_id,
            detail={"reason": reason},
            result="denied",
            error_type="signature-rejected",
            source=source,
        )
    return until


class Lockout:
    """The signature throttle of one application, with its cache of lock states."""

    def __init__(self, *, sessions: sessionmaker[Session], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._known: dict[str, tuple[datetime | None, float]] = {}

    async def check(self, *, keys: list[str]) -> None:
        """Raises TooManyAttempts while any of ``keys`` is locked."""
        now = time.monotonic()
        stale = [key for key in keys if key not in self._known or self._known[key][1] < now]
        if stale:
            self._remember(await run_in_threadpool(self._read, stale))
        until = [self._known[key][0] for key in keys]
        locked = max((u for u in until if u), default=None)
        throttle.refuse_until(locked, what="rejected signatures")

    async def fail(
        self, *, keys: list[str], key_id: str | None, reason: str, source: str | None
    ) -> None:
        """Count and audit one rejected signature."""
        record = partial(record_failure, self._sessions, self._settings, keys)
        self._remember(await run_in_threadpool(record, key_id, reason, source))

    def _read(self, keys: list[str]) -> dict[str, datetime | None]:
        with self._sessions() as db:
            locked = throttle.locks(db=db, keys=keys)
        return {key: locked.get(key) for key in keys}

    def _remember(self, until: dict[str, datetime | None]) -> None:
        if len(self._known) > CACHE_MAX:
            self._known.clear()
        fresh = time.monotonic() + CACHE_SECONDS
        self._known.update((key, (locked, fresh)) for key, locked in until.items())
