"""The nonce ledger: every signed request's nonce written once to the shared database,
before the request runs, with group commit.

Requests wait on the event loop. While one batch is being written (one statement,
``INSERT ... ON CONFLICT DO NOTHING RETURNING``, autocommitted), the nonces that arrive
queue up and go together in the next one: one commit per batch, not per request, and
request threads never fight for the database's write lock (SQLite's busy wait sleeps
whole milliseconds). On SQLite the nonces live in their own file beside the database
and a claim is committed on the loop itself when its write lock is free
(``nonces_sqlite``: cheaper than a thread hop); otherwise, and always on PostgreSQL, by
the ledger's own writer thread on its own connection. A nonce is accepted only once its
row is committed, so the table's primary key still refuses a replay in every process
and replica.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import structlog
from sqlalchemy import Connection, Engine

from tenantfusion.apikeys import nonces_sqlite, service

_Rows = list[tuple[str, str, datetime]]
_T = TypeVar("_T")
log = structlog.get_logger(__name__)


def _log_failure(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("nonce_ledger.upkeep_failed", error=type(done.exception()).__name__)


@dataclass(frozen=True)
class _Claim:
    key_id: str
    nonce: str
    created: datetime
    answer: asyncio.Future[bool]


class NonceLedger:
    """Records nonces in the shared ``signature_nonce`` table, batching concurrent claims
    (one ledger per process and event loop)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()  # the connection: a closing app vs a last batch
        self._pending: list[_Claim] = []
        self._flusher: asyncio.Task[None] | None = None
        path = nonces_sqlite.nonce_path(engine)  # SQLite: the nonce file, its two connections
        self._on_loop = nonces_sqlite.NonceFile(path, wait=False) if path else None
        self._waiting = nonces_sqlite.NonceFile(path, wait=True) if path else None
        self._upkeep: asyncio.Future[None] | None = None

    async def claim(self, *, key_id: str, nonce: str, created: datetime) -> bool:
        """True once the nonce is stored for the first time (committed); False if this key
        used it before, here or on another replica. Raises what the database raised."""
        idle = not self._pending and (self._flusher is None or self._flusher.done())
        if idle and self._on_loop is not None:  # SQLite: commit it now, if nobody writes
            stored = self._write_on_loop([(key_id, nonce, created)])
            if stored is not None:
                return (key_id, nonce) in stored
        loop = asyncio.get_running_loop()
        mine = _Claim(key_id, nonce, created, loop.create_future())
        self._pending.append(mine)
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        return await mine.answer

    async def _flush(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # let requests already on the loop join this batch
            batch = self._pending[: nonces_sqlite.CHUNK]
            del self._pending[: nonces_sqlite.CHUNK]
            await self._settle(batch)

    async def _settle(self, batch: list[_Claim]) -> None:
        """Store one batch and answer its claims; the first claim of a nonce wins."""
        firsts: dict[tuple[str, str], _Claim] = {}
        for claim in batch:
            firsts.setdefault((claim.key_id, claim.nonce), claim)
        rows = [(c.key_id, c.nonce, c.created) for c in firsts.values()]
        try:
            stored = self._write_on_loop(rows)
            if stored is None:  # PostgreSQL, or SQLite's write lock is taken: wait for it
                stored = await self._in_thread(self._store, rows)
        except Exception as e:  # every request of the batch fails with it
            for claim in batch:
                if not claim.answer.done():  # its request may be gone (cancelled)
                    claim.answer.set_exception(e)
            return
        for claim in batch:
            key = (claim.key_id, claim.nonce)
            if not claim.answer.done():
                claim.answer.set_result(firsts[key] is claim and key in stored)

    def _write_on_loop(self, rows: _Rows) -> set[tuple[str, str]] | None:
        """``rows`` committed now on SQLite (``nonces_sqlite``); None, with nothing
        written, on PostgreSQL or while another connection writes."""
        if self._on_loop is None:
            return None
        stored = self._on_loop.store(rows)
        if stored is not None and self._on_loop.upkeep_due():
            self._start_upkeep()
        return stored

    async def _in_thread(self, work: Callable[[_Rows], _T], rows: _Rows) -> _T:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nonce-ledger")
        return await asyncio.get_running_loop().run_in_executor(self._writer, work, rows)

    def _start_upkeep(self) -> None:
        """The nonce file's purge and checkpoint, in the writer thread; the requests do not wait
        for it (a failure is logged, and the next one tries again)."""
        if self._upkeep is None or self._upkeep.done():
            self._upkeep = asyncio.ensure_future(self._in_thread(self._run_upkeep, []))
            self._upkeep.add_done_callback(_log_failure)

    def _run_upkeep(self, _: _Rows) -> None:
        with self._lock:
            if self._waiting is not None:
                self._waiting.upkeep()

    def _store(self, rows: _Rows) -> set[tuple[str, str]]:
        with self._lock:
            if self._waiting is not None:  # SQLite: waits for the write lock
                stored = self._waiting.store(rows)
                assert stored is not None  # noqa: S101  a waiting NonceFile never says busy
                return stored
            try:
                if self._connection is None:
                    self._connection = self._engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT"
                    )
                return service.store_nonces(db=self._connection, nonces=rows)
            except Exception:
                self._close()  # reconnect for the next batch
                raise

    def close(self) -> None:
        """Stop the writer thread and give the connection back (both come back when the
        ledger is used again)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)
        with self._lock:
            self._close()
            for file in (self._on_loop, self._waiting):
                if file is not None:
                    file.close()

    def _close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()
