"""The SQLite half of the nonce ledger: its own database file, written on the event loop.

On SQLite the used nonces live in a file beside the database, ``<name>.nonces.db``
(``nonce_path``), shared like the database itself by every process that opens it, so its
primary key refuses a replay in any of them. A separate file because a commit to the
main file makes every other connection drop its page cache: each signed request's nonce
write made the reads of the requests around it re-read their pages, which cost more
than the write itself (measured: ``bench/bench_signing.py``). Its table is made here
(``CREATE ... IF NOT EXISTS``): it holds nothing that outlives the signature window.

In WAL mode with ``synchronous=NORMAL`` a commit does not wait for the disk, so one
``INSERT ... ON CONFLICT DO NOTHING RETURNING``, committed, costs a few tens of
microseconds: less than handing it to a thread. ``NonceFile(wait=False)`` never waits
for the write lock: when another process holds it, SQLite answers ``SQLITE_BUSY`` at
once, nothing is written, and the ledger gives the batch to its writer thread, whose
``NonceFile(wait=True)`` waits as long as a request would. Nothing slow runs on the loop:
automatic checkpoints are off there; ``upkeep`` (purge and checkpoint) runs in the thread.
"""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine

from tenantfusion.apikeys.service import NONCE_KEPT

#: Rows per statement at most (3 parameters each; SQLite allows 32,766 per statement).
CHUNK = 500
#: Loop commits between two upkeeps (each commit adds a few pages to the WAL).
UPKEEP_EVERY = 250
#: How long the writer thread waits for another process's write lock.
WAIT_SECONDS = 30.0
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS signature_nonce (key_id TEXT NOT NULL, nonce TEXT NOT NULL,"
    " expires_at INTEGER NOT NULL, PRIMARY KEY (key_id, nonce)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS signature_nonce_expires ON signature_nonce (expires_at)",
)


def nonce_path(engine: Engine) -> Path | None:
    """The nonce file of a SQLite file database; None for PostgreSQL or in memory."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    path = Path(database)
    return path.with_name(f"{path.stem}.nonces.db")


@lru_cache(maxsize=64)
def _insert(rows: int) -> str:
    """The statement for ``rows`` rows: placeholders only, every value is a parameter."""
    values = ", ".join(["(?, ?, ?)"] * rows)
    return (
        f"INSERT INTO signature_nonce (key_id, nonce, expires_at) VALUES {values} "  # noqa: S608  placeholders only
        "ON CONFLICT (key_id, nonce) DO NOTHING RETURNING key_id, nonce"
    )


class NonceFile:
    """One autocommit connection to the nonce file (used from one thread at a time)."""

    def __init__(self, path: Path, *, wait: bool) -> None:
        self._path = path
        self._wait = wait
        self._connection: sqlite3.Connection | None = None
        self._commits = 0

    def store(self, rows: list[tuple[str, str, datetime]]) -> set[tuple[str, str]] | None:
        """The (key id, nonce) pairs of ``rows`` (at most CHUNK) inserted and committed
        now. Without ``wait``: None, with nothing written, while another connection holds
        the write lock. Raises what SQLite raised otherwise (the next call reconnects)."""
        try:
            connection = self._connection or self._connect()
            params = [
                value
                for key_id, nonce, created in rows
                for value in (key_id, nonce, int((created + NONCE_KEPT).timestamp()))
            ]
            found = connection.execute(_insert(len(rows)), params).fetchall()
        except sqlite3.OperationalError as e:
            busy = e.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
            if not self._wait and busy and not self._in_transaction():
                return None  # nothing written, the connection as it was
            self.close()  # the next call reconnects
            raise
        except BaseException:
            self.close()
            raise
        if connection.in_transaction:  # autocommit: the statement committed itself
            self.close()
            raise RuntimeError("the nonce file's connection left a transaction open")
        self._commits += 1
        return {(key_id, nonce) for key_id, nonce in found}

    def upkeep_due(self) -> bool:
        """True once per UPKEEP_EVERY commits: time for ``upkeep`` (in a thread)."""
        if self._commits < UPKEEP_EVERY:
            return False
        self._commits = 0
        return True

    def upkeep(self) -> None:
        """Drop the expired nonces, then copy the WAL back into the file (``PASSIVE``: it
        never blocks readers or writers)."""
        connection = self._connection or self._connect()
        connection.execute("DELETE FROM signature_nonce WHERE expires_at < ?", (int(time.time()),))
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def _in_transaction(self) -> bool:
        return self._connection is not None and self._connection.in_transaction

    def _connect(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        connection = sqlite3.connect(
            self._path,
            timeout=WAIT_SECONDS if self._wait else 0.0,
            isolation_level=None,
            check_same_thread=False,  # the ledger hands it between loop and thread, in turn
        )
        try:
            connection.execute("PRAGMA journal_mode=WAL").fetchall()
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA wal_autocheckpoint=0")
            for statement in _SCHEMA:
                connection.execute(statement)
            for name in (self._path, Path(f"{self._path}-wal"), Path(f"{self._path}-shm")):
                if name.exists() and name.stat().st_uid == os.getuid():
                    name.chmod(0o600)  # like the database: this user only
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection
