"""The nonce ledger: every signed request's nonce written once to the shared database,
before the request runs, with group commit.

Requests wait on the event loop. While one batch is being written (one statement,
``INSERT ... ON CONFLICT DO NOTHING RETURNING``, on the ledger's own autocommit
connection, by the ledger's own writer thread), the nonces that arrive queue up and go
together in the next one: one thread hop and one commit per batch, not per request, and
request threads never fight for the database's write lock (SQLite's busy wait sleeps
whole milliseconds). A nonce is accepted only once its row is committed, so the table's
primary key still refuses a replay on every replica.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from tenantfusion.apikeys import service


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

    async def claim(self, *, key_id: str, nonce: str, created: datetime) -> bool:
        """True once the nonce is stored for the first time (committed); False if this key
        used it before, here or on another replica. Raises what the database raised."""
        loop = asyncio.get_running_loop()
        mine = _Claim(key_id, nonce, created, loop.create_future())
        self._pending.append(mine)
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        return await mine.answer

    async def _flush(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # let requests already on the loop join this batch
            batch, self._pending = self._pending, []
            await self._settle(batch)

    async def _settle(self, batch: list[_Claim]) -> None:
        """Store one batch and answer its claims; the first claim of a nonce wins."""
        firsts: dict[tuple[str, str], _Claim] = {}
        for claim in batch:
            firsts.setdefault((claim.key_id, claim.nonce), claim)
        rows = [(c.key_id, c.nonce, c.created) for c in firsts.values()]
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nonce-ledger")
        try:
            loop = asyncio.get_running_loop()
            stored = await loop.run_in_executor(self._writer, self._store, rows)
        except Exception as e:  # every request of the batch fails with it
            for claim in batch:
                if not claim.answer.done():  # its request may be gone (cancelled)
                    claim.answer.set_exception(e)
            return
        for claim in batch:
            key = (claim.key_id, claim.nonce)
            if not claim.answer.done():
                claim.answer.set_result(firsts[key] is claim and key in stored)

    def _store(self, rows: list[tuple[str, str, datetime]]) -> set[tuple[str, str]]:
        with self._lock:
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

    def _close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()
