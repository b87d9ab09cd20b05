"""The nonce ledger: every signed request's nonce written once to the shared database,
before the request runs, with group commit.

One request thread at a time writes (a lock in this process), and it writes every nonce
that queued up meanwhile, its own included, as one statement (``INSERT ... ON CONFLICT
DO NOTHING RETURNING``) on the ledger's own autocommit connection: one round trip, no
session, no pool checkout. The threads whose nonce it wrote find their answer when they
get the lock. Alone, a request writes its own nonce without any hand-off; under load
many requests share a commit, and request threads never fight for the database's write
lock (SQLite's busy wait sleeps whole milliseconds). A nonce is accepted only once its
row is committed, so the table's primary key still refuses a replay on every replica.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from tenantfusion.apikeys import service


@dataclass(frozen=True)
class _Claim:
    key_id: str
    nonce: str
    created: datetime
    answer: Future[bool]


class NonceLedger:
    """Records nonces in the shared ``signature_nonce`` table, batching concurrent claims."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._pending: list[_Claim] = []
        self._pending_lock = threading.Lock()
        self._write_lock = threading.Lock()

    def claim(self, *, key_id: str, nonce: str, created: datetime) -> bool:
        """True once the nonce is stored for the first time (committed); False if this key
        used it before, here or on another replica. Raises what the database raised."""
        mine = _Claim(key_id, nonce, created, Future())
        with self._pending_lock:
            self._pending.append(mine)
        with self._write_lock:
            if not mine.answer.done():  # nobody wrote it while this thread waited
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                self._write(batch)
        return mine.answer.result()

    def _write(self, batch: list[_Claim]) -> None:
        """Store one batch; the first claim of a nonce within it wins."""
        firsts: dict[tuple[str, str], _Claim] = {}
        for claim in batch:
            firsts.setdefault((claim.key_id, claim.nonce), claim)
        try:
            if self._connection is None:
                self._connection = self._engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            stored = service.store_nonces(
                db=self._connection,
                nonces=[(c.key_id, c.nonce, c.created) for c in firsts.values()],
            )
        except Exception as e:  # every request of the batch fails with it; reconnect next
            self.close()
            for claim in batch:
                claim.answer.set_exception(e)
            return
        for claim in batch:
            key = (claim.key_id, claim.nonce)
            claim.answer.set_result(firsts[key] is claim and key in stored)

    def close(self) -> None:
        """Give the ledger's connection back (it reconnects when used again)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()
