"""Login protection: failure counters in the database (shared by every replica), lockouts
that back off, and a bound on concurrent password checks.

Keys are ``user:<tenant or platform>:<username>`` and ``addr:<source address>`` (rejected
API key signatures count on their own keys, ``apikeys.lockout``). After
``login_max_failures`` failures within ``login_window_seconds`` a key is locked for
``login_lockout_seconds``, doubling with each further failure (capped at the window);
while locked, logins answer 429 without checking the password.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.db import dialect_insert, utcnow
from tenantfusion.errors import LoginBusy, TooManyAttempts
from tenantfusion.platform.models import LoginFailure


def login_keys(*, tenant_ref: str | None, username: str, source: str | None) -> list[str]:
    """The counters one login attempt touches."""
    keys = [f"user:{(tenant_ref or 'platform').lower()}:{username.lower()}"[:200]]
    if source:
        keys.append(f"addr:{source}"[:200])
    return keys


def locks(*, db: Session, keys: list[str], now: datetime | None = None) -> dict[str, datetime]:
    """The keys among ``keys`` locked at ``now``, with the end of their lockout."""
    now = now or utcnow()
    return {
        row.key: row.locked_until
        for row in db.scalars(select(LoginFailure).where(LoginFailure.key.in_(keys)))
        if row.locked_until is not None and row.locked_until > now
    }


def refuse_until(until: datetime | None, *, what: str, now: datetime | None = None) -> None:
    """Raises TooManyAttempts (with ``retry_after`` seconds) if ``until`` is still ahead."""
    now = now or utcnow()
    if until is not None and until > now:
        wait = max(math.ceil((until - now).total_seconds()), 1)
        raise TooManyAttempts(f"too many {what}; try again in {wait} s", retry_after=wait)


def check(*, db: Session, keys: list[str], now: datetime | None = None) -> None:
    """Raises TooManyAttempts (with ``retry_after`` seconds) while any key is locked."""
    locked = locks(db=db, keys=keys, now=now)
    refuse_until(max(locked.values(), default=None), what="failed logins", now=now)


def fail(*, db: Session, keys: list[str], settings: Settings) -> dict[str, datetime | None]:
    """Count one failure on each key; lock keys past the limit, backing off. Returns each
    key's lockout end (None while under the limit)."""
    now = utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    until: dict[str, datetime | None] = {}
    for key in sorted(keys):
        # write first: takes the row (PostgreSQL) or database (SQLite) write lock
        db.execute(
            dialect_insert(db, LoginFailure)
            .values(key=key, failures=0, window_start=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        row = db.scalars(
            select(LoginFailure).where(LoginFailure.key == key).with_for_update()
        ).one()
        if row.window_start < now - window and not (row.locked_until and row.locked_until > now):
            row.failures, row.window_start = 0, now
        row.failures += 1
        over = row.failures - settings.login_max_failures
        if over >= 0:
            lock = min(settings.login_lockout_seconds * 2**over, settings.login_window_seconds)
            row.locked_until = now + timedelta(seconds=lock)
        until[key] = row.locked_until
    db.flush()
    return until


def succeed(*, db: Session, user_key: str) -> None:
    """A correct password clears its user's counter (not the address's)."""
    row = db.get(LoginFailure, user_key)
    if row is not None:
        db.delete(row)
        db.flush()


class LoginGate:
    """At most ``limit`` password checks at once in this process; the rest are refused at
    once (no queue of threads holding 64 MiB of Argon2 memory each)."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(max(limit, 1))

    def enter(self) -> None:
        """Take a slot; raises LoginBusy (503, retry after 1 s) when all are taken."""
        if not self._slots.acquire(blocking=False):
            raise LoginBusy("too many logins in progress; retry in a second", retry_after=1)

    def leave(self) -> None:
        self._slots.release()
