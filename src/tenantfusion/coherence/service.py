"""The epochs: bumped with the writes caches depend on, watched by every serving process.

- **Scopes.** One epoch per ``Scope``: ``identity`` (tokens, users, tenants, mappings,
  pools) and ``records`` (routing records). A cache depends on the scope it reads, so a
  tenant's new server does not drop every process's checked tokens.
- **Bump.** A transaction that updates or deletes a row of a watched table (``WATCHED``)
  also adds one to its scope's epoch as its last statement, so both commit or neither
  does. ORM flushes count only columns that changed, less each table's bookkeeping
  columns (a pool's health check time, a mapping's lease, a record's quota charges);
  bulk statements count unless they carry ``NEUTRAL`` (the lease statements). Inserts
  count only where a cache holds a list a new row would belong to (``records``); in
  ``identity`` nothing caches an absence.
- **Watch.** ``Watcher`` (one thread per serving process) reads the epochs every
  ``POLL_SECONDS``; ``current(scope)`` is the value it read, or None when it has not read
  one within ``STALE_SECONDS`` (stopped, database down, or two databases in one process).
- **Keep.** A cache stamps each entry with ``current(scope)`` as it was *before* the reads
  the entry comes from (``Stamp``). The entry is trusted for ``short`` seconds whatever
  happens, and up to ``long`` seconds while the epoch is still the stamped one: a write
  committed after those reads, on any replica, ends it once the watcher sees it.
- **Locally**, a committed bump drops this process's caches of that scope at once
  (``on_change``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Table, event, inspect, select, update
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    SessionTransaction,
    UOWTransaction,
    sessionmaker,
)

from tenantfusion.coherence.models import CacheEpoch, Scope

log = structlog.get_logger(__name__)

POLL_SECONDS = 0.5
STALE_SECONDS = 2.0
#: Table → its scope, and the columns whose change alone leaves every cache valid.
WATCHED: dict[str, tuple[Scope, frozenset[str]]] = {
    "token": (Scope.identity, frozenset()),
    "user": (Scope.identity, frozenset()),
    "tenant": (Scope.identity, frozenset()),
    "mapping": (Scope.identity, frozenset({"lease_owner", "lease_expires_at", "verified_at"})),
    "pool": (Scope.identity, frozenset({"checked_at"})),
    # what a list reads of a record: not its quota charges, key, or reconcile bookkeeping
    "routing_record": (
        Scope.records,
        frozenset({"charges", "request_key", "missing_since", "updated_at"}),
    ),
}
#: Scopes whose caches hold lists a new row would belong to: inserts count there.
INSERTS_COUNT = frozenset({Scope.records})
#: Execution options of a bulk statement on a watched table that changes nothing cached.
NEUTRAL = {"tf_cache_neutral": True}
_TABLE: Table = CacheEpoch.__table__  # type: ignore[assignment]
_BUMP = {
    scope: update(_TABLE).where(_TABLE.c.id == scope.value).values(value=_TABLE.c.value + 1)
    for scope in Scope
}
_READ = select(_TABLE.c.id, _TABLE.c.value)
_IDS = frozenset(scope.value for scope in Scope)
_CHANGED = "tf_cache_epoch_changed"  # session.info: the scopes this transaction changed
_BUMPED = "tf_cache_epoch_bumped"  # session.info: the scopes its commit bumps

_listeners: dict[Scope, list[Callable[[], None]]] = {scope: [] for scope in Scope}
_lock = threading.Lock()  # the watchers
_seen_lock = threading.Lock()  # _observed
_observed: tuple[dict[Scope, int], float] | None = None  # (epochs, monotonic time read)
_watching: dict[str, int] = {}  # database URL → running watchers
_ambiguous = False


def on_change(listener: Callable[[], None], *, scope: Scope = Scope.identity) -> None:
    """Call ``listener`` (drop a cache) whenever ``scope``'s epoch moves, here or elsewhere."""
    _listeners[scope].append(listener)


def _changed(scopes: Iterable[Scope]) -> None:
    for scope in scopes:
        for listener in _listeners[scope]:
            listener()


def current(scope: Scope = Scope.identity) -> int | None:
    """``scope``'s epoch as the watcher read it within ``STALE_SECONDS``, else None."""
    seen = _observed
    if seen is None or _ambiguous or time.monotonic() - seen[1] > STALE_SECONDS:
        return None
    return seen[0].get(scope)


@dataclass(frozen=True, slots=True)
class Stamp:
    """When a cache entry stops being trusted (monotonic deadlines)."""

    short: float
    long: float
    epoch: int | None
    scope: Scope = Scope.identity

    def valid(self) -> bool:
        now = time.monotonic()
        if now < self.short:
            return True
        return self.epoch is not None and now < self.long and self.epoch == current(self.scope)


def stamp(*, epoch: int | None, short: float, long: float, scope: Scope = Scope.identity) -> Stamp:
    """A stamp for an entry read after ``epoch`` (of ``scope``) was current, kept
    ``short``/``long`` s."""
    now = time.monotonic()
    return Stamp(short=now + short, long=now + max(short, long), epoch=epoch, scope=scope)


def _changes_watched(session: Session) -> set[Scope]:
    """The scopes the objects this flush wrote change."""
    scopes: set[Scope] = set()
    for obj in session.new:
        watched = WATCHED.get(obj.__table__.name)
        if watched is not None and watched[0] in INSERTS_COUNT:
            scopes.add(watched[0])
    for obj in session.deleted:
        watched = WATCHED.get(obj.__table__.name)
        if watched is not None:
            scopes.add(watched[0])
    for obj in session.dirty:
        watched = WATCHED.get(obj.__table__.name)
        if watched is None or watched[0] in scopes:
            continue
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            if attr.key not in watched[1] and state.attrs[attr.key].history.has_changes():
                scopes.add(watched[0])
                break
    return scopes


def _mark(session: Session, scopes: set[Scope]) -> None:
    session.info.setdefault(_CHANGED, set()).update(scopes)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _: UOWTransaction) -> None:
    scopes = _changes_watched(session)
    if scopes:
        _mark(session, scopes)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table: Any = getattr(state.statement, "table", None)
    watched = WATCHED.get(getattr(table, "name", None) or "")
    if watched is None or state.execution_options.get("tf_cache_neutral"):
        return
    if state.is_insert and watched[0] not in INSERTS_COUNT:
        return
    _mark(state.session, {watched[0]})


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    """The bumps, as the transaction's last statements, in the scopes' order: the epoch
    rows are the last locks any transaction takes, always taken in one order, so waiting
    for them never closes a cycle of locks (no deadlock)."""
    if session.in_nested_transaction():
        return  # a savepoint: the bump waits for the transaction's own commit
    session.flush()  # what the commit would flush next, counted too
    scopes = sorted(session.info.get(_CHANGED, ()))
    if scopes:
        connection = session.connection()
        bumped: dict[Scope, int] = {}
        for scope in scopes:
            connection.execute(_BUMP[scope])
        for scope, value in connection.execute(_READ.where(_TABLE.c.id.in_(scopes))):
            bumped[Scope(scope)] = value  # this transaction's own: the rows are locked
        session.info[_BUMPED] = bumped


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    bumped = session.info.pop(_BUMPED, None)
    if bumped:  # the transaction's commit, not a savepoint's
        session.info.pop(_CHANGED, None)
        _advance(bumped)
        _changed(bumped)


def _advance(epochs: dict[Scope, int]) -> None:
    """What this process committed is known without waiting for the watcher: every
    epoch up to the one a commit wrote is committed (the row lock orders the bumps), so
    entries read after it may be stamped with it."""
    global _observed
    with _seen_lock:
        seen = _observed
        if seen is not None:
            now = {s: max(v, epochs.get(s, v)) for s, v in seen[0].items()}
            _observed = (now, seen[1])


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:  # a savepoint's rollback leaves what came before it marked
        session.info.pop(_CHANGED, None)
        session.info.pop(_BUMPED, None)


def _observe(epochs: dict[Scope, int] | None) -> None:
    """What the watcher read (None: nothing, or it stopped); an epoch never goes back (a
    read begun before a local commit ``_advance``d it ends after it)."""
    global _observed
    with _seen_lock:
        previous = _observed
        if epochs is not None and previous is not None:
            epochs = {s: max(v, previous[0].get(s, v)) for s, v in epochs.items()}
        _observed = (epochs, time.monotonic()) if epochs is not None else None
    if previous is not None:
        after = epochs or {}
        _changed(scope for scope in Scope if previous[0].get(scope) != after.get(scope))


class Watcher(threading.Thread):
    """Reads the epochs every ``POLL_SECONDS`` for ``current()`` (one per serving process;
    a second one on another database makes ``current()`` None for good in this process,
    so no cache is trusted past its short time there)."""

    def __init__(self, *, sessions: sessionmaker[Session], url: str) -> None:
        super().__init__(name="cache-epoch", daemon=True)
        self._sessions = sessions
        self._url = url
        self._stop_event = threading.Event()

    def start(self) -> None:
        global _ambiguous
        with _lock:
            if _watching and self._url not in _watching:
                _ambiguous = True
            _watching[self._url] = _watching.get(self._url, 0) + 1
        super().start()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        global _ambiguous
        try:
            while not self._stop_event.is_set():
                self._poll()
                self._stop_event.wait(POLL_SECONDS)
        finally:
            with _lock:
                _watching[self._url] -= 1
                if not _watching[self._url]:
                    del _watching[self._url]
                if not _watching:
                    _ambiguous = False
                    _observe(None)

    def _poll(self) -> None:
        try:
            with self._sessions() as db:
                epochs = {Scope(i): v for i, v in db.execute(_READ) if i in _IDS}
        except Exception as e:  # the database is down: nothing is trusted past its short time
            log.warning("coherence.poll_failed", error=type(e).__name__)
            return
        _observe(epochs)
