"""The SQLite half of the nonce ledger: a batch of nonces written on the event loop.

In WAL mode with ``synchronous=NORMAL`` a commit does not wait for the disk, so one
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` of a batch, committed, costs a few tens
of microseconds: less than handing it to a thread and waking the loop again. It runs on
the ledger's own raw connection (autocommit), which never waits for the write lock: when
another writer holds it, SQLite answers ``SQLITE_BUSY`` at once, nothing is written, and
the caller gives the batch to its writer thread, which waits as long as any request
would. Nothing slow runs on the loop either: automatic WAL checkpoints are off on this
connection, and ``upkeep_due`` tells the caller when to run one (with the purge of expired
nonces) in its thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine

from tenantfusion.apikeys import service
from tenantfusion.apikeys.models import SignatureNonce

#: Rows per statement at most (3 parameters each; SQLite allows 32,766 per statement).
CHUNK = 500
#: Loop commits between two checkpoints (each commit adds a few pages to the WAL).
UPKEEP_EVERY = 250

_TABLE = SignatureNonce.__table__


@lru_cache(maxsize=64)
def _insert(rows: int) -> str:
    """The statement for ``rows`` rows: placeholders only, every value is a parameter."""
    values = ", ".join(["(?, ?, ?)"] * rows)
    return (
        f"INSERT INTO {SignatureNonce.__tablename__} (key_id, nonce, expires_at) VALUES {values} "  # noqa: S608  fixed names and placeholders
        "ON CONFLICT (key_id, nonce) DO NOTHING RETURNING key_id, nonce"
    )


class LoopWriter:
    """Writes batches of nonces without waiting (one per ledger; used from one thread at
    a time)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: sqlite3.Connection | None = None
        self._commits = 0
        expires: Callable[[Any], Any] | None = _TABLE.c.expires_at.type.bind_processor(
            engine.dialect
        )
        self._expires = expires or (lambda value: value)

    def store(self, rows: list[tuple[str, str, datetime]]) -> set[tuple[str, str]] | None:
        """The (key id, nonce) pairs of ``rows`` (at most CHUNK) inserted and committed
        now; None, with nothing written, if another connection holds the write lock.
        Raises what SQLite raised otherwise (the next call reconnects)."""
        connection = self._connection or self._connect()
        kept = service.NONCE_KEPT
        params = [
            value
            for key_id, nonce, created in rows
            for value in (key_id, nonce, self._expires(created + kept))
        ]
        try:
            found = connection.execute(_insert(len(rows)), params).fetchall()
        except sqlite3.OperationalError as e:
            if e.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY and not connection.in_transaction:
                return None
            self.close()
            raise
        except BaseException:
            self.close()
            raise
        if connection.in_transaction:  # autocommit: the statement committed itself
            self.close()
            raise RuntimeError("the nonce ledger's SQLite connection left a transaction open")
        self._commits += 1
        return {(key_id, nonce) for key_id, nonce in found}

    def upkeep_due(self) -> bool:
        """True once per UPKEEP_EVERY commits: time for ``upkeep`` (in a thread)."""
        if self._commits < UPKEEP_EVERY:
            return False
        self._commits = 0
        return True

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def _connect(self) -> sqlite3.Connection:
        pooled = self._engine.raw_connection()  # the engine's pragmas: WAL, NORMAL sync
        connection = pooled.driver_connection
        pooled.detach()  # ours now: it never goes back to the pool with these settings
        assert isinstance(connection, sqlite3.Connection)  # noqa: S101  the sqlite engine's
        connection.isolation_level = None
        connection.execute("PRAGMA busy_timeout=0")
        connection.execute("PRAGMA wal_autocheckpoint=0")
        self._connection = connection
        return connection


def upkeep(db: Connection) -> None:
    """What the loop's connection leaves to a thread: drop expired nonces, then copy the
    WAL back into the database file (``PASSIVE``: it never blocks readers or writers)."""
    service.purge_nonces(db=db)
    db.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
