"""The epoch: bumped with the writes caches depend on, watched by every serving process.

- **Bump.** A transaction that updates or deletes a row of a watched table (``WATCHED``)
  also adds one to ``cache_epoch`` as its last statement, so both commit or neither
  does. ORM flushes count only columns that changed, less each table's bookkeeping
  columns (a pool's health check time, a mapping's lease); bulk ``UPDATE``/``DELETE``
  statements count unless they carry ``NEUTRAL`` (the lease statements). Inserts never
  count: nothing caches an absence.
- **Watch.** ``Watcher`` (one thread per serving process) reads the epoch every
  ``POLL_SECONDS``; ``current()`` is the value it read, or None when it has not read one
  within ``STALE_SECONDS`` (stopped, database down, or two databases in one process).
- **Keep.** A cache stamps each entry with ``current()`` as it was *before* the reads the
  entry comes from (``Stamp``). The entry is trusted for ``short`` seconds whatever
  happens, and up to ``long`` seconds while the epoch is still the stamped one: a write
  committed after those reads, on any replica, ends it once the watcher sees it.
- **Locally**, a committed bump drops this process's caches at once (``on_change``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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

from tenantfusion.coherence.models import EPOCH_ID, CacheEpoch

log = structlog.get_logger(__name__)

POLL_SECONDS = 0.5
STALE_SECONDS = 2.0
#: Table → the columns whose change alone leaves every cache valid.
WATCHED: dict[str, frozenset[str]] = {
    "token": frozenset(),
    "user": frozenset(),
    "tenant": frozenset(),
    "mapping": frozenset({"lease_owner", "lease_expires_at", "verified_at"}),
    "pool": frozenset({"checked_at"}),
}
#: Execution options of a bulk statement on a watched table that changes nothing cached.
NEUTRAL = {"tf_cache_neutral": True}
_TABLE: Table = CacheEpoch.__table__  # type: ignore[assignment]
_BUMP = update(_TABLE).where(_TABLE.c.id == EPOCH_ID).values(value=_TABLE.c.value + 1)
_READ = select(_TABLE.c.value).where(_TABLE.c.id == EPOCH_ID)
_CHANGED = "tf_cache_epoch_changed"
_BUMPED = "tf_cache_epoch_bumped"

_listeners: list[Callable[[], None]] = []
_lock = threading.Lock()
_observed: tuple[int, float] | None = None  # (epoch, monotonic time it was read)
_watching: dict[str, int] = {}  # database URL → running watchers
_ambiguous = False


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` (drop a cache) whenever the epoch moves, here or elsewhere."""
    _listeners.append(listener)


def _changed() -> None:
    for listener in _listeners:
        listener()


def current() -> int | None:
    """The epoch the watcher read within ``STALE_SECONDS``, else None."""
    seen = _observed
    if seen is None or _ambiguous or time.monotonic() - seen[1] > STALE_SECONDS:
        return None
    return seen[0]


@dataclass(frozen=True, slots=True)
class Stamp:
    """When a cache entry stops being trusted (monotonic deadlines)."""

    short: float
    long: float
    epoch: int | None

    def valid(self) -> bool:
        now = time.monotonic()
        if now < self.short:
            return True
        return self.epoch is not None and now < self.long and self.epoch == current()


def stamp(*, epoch: int | None, short: float, long: float) -> Stamp:
    """A stamp for an entry read after ``epoch`` was current, kept ``short``/``long`` s."""
    now = time.monotonic()
    return Stamp(short=now + short, long=now + max(short, long), epoch=epoch)


def _changes_watched(session: Session) -> bool:
    for obj in session.deleted:
        if obj.__table__.name in WATCHED:
            return True
    for obj in session.dirty:
        ignored = WATCHED.get(obj.__table__.name)
        if ignored is None:
            continue
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            if attr.key not in ignored and state.attrs[attr.key].history.has_changes():
                return True
    return False


def _mark(session: Session) -> None:
    session.info[_CHANGED] = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _: UOWTransaction) -> None:
    if not session.info.get(_CHANGED) and _changes_watched(session):
        _mark(session)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.session.info.get(_CHANGED):
        return
    table: Any = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED and not state.execution_options.get(
        "tf_cache_neutral"
    ):
        _mark(state.session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    """The bump, as the transaction's last statement: the epoch row is the last lock any
    transaction takes, so waiting for it never closes a cycle of locks (no deadlock)."""
    if session.in_nested_transaction():
        return  # a savepoint: the bump waits for the transaction's own commit
    session.flush()  # what the commit would flush next, counted too
    if session.info.get(_CHANGED):
        session.connection().execute(_BUMP)
        session.info[_BUMPED] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_BUMPED, False):  # the transaction's commit, not a savepoint's
        session.info.pop(_CHANGED, None)
        _changed()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:  # a savepoint's rollback leaves what came before it marked
        session.info.pop(_CHANGED, None)
        session.info.pop(_BUMPED, None)


def _observe(epoch: int | None) -> None:
    global _observed
    previous = _observed
    _observed = (epoch, time.monotonic()) if epoch is not None else None
    if previous is not None and previous[0] != epoch:
        _changed()


class Watcher(threading.Thread):
    """Reads the epoch every ``POLL_SECONDS`` for ``current()`` (one per serving process;
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
                epoch = db.scalar(_READ)
        except Exception as e:  # the database is down: nothing is trusted past its short time
            log.warning("coherence.poll_failed", error=type(e).__name__)
            return
        _observe(epoch)
