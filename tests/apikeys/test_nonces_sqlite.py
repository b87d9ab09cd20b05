"""On SQLite the ledger keeps nonces in their own file and writes them on the event loop:
a nonce is answered only once its row is committed, also while another process holds
the file's write lock (then the writer thread waits for it); the main database file is
not written at all; expired nonces are purged."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from contextlib import closing
from datetime import UTC, datetime, timedelta

from tenantfusion.apikeys import nonces_sqlite
from tenantfusion.apikeys.nonces import NonceLedger
from tenantfusion.config import Settings
from tenantfusion.db import engine_for


def _ledger(settings: Settings) -> tuple[NonceLedger, sqlite3.Connection]:
    """A ledger and another connection to its nonce file (another process, say)."""
    engine = engine_for(settings.resolved_database_url)
    ledger = NonceLedger(engine)
    path = nonces_sqlite.nonce_path(engine)
    assert path is not None
    nonces_sqlite.NonceFile(path, wait=True).upkeep()  # the file and its table exist
    return ledger, sqlite3.connect(path, isolation_level=None, check_same_thread=False)


def _stored(other: sqlite3.Connection) -> set[str]:
    return {nonce for (nonce,) in other.execute("SELECT nonce FROM signature_nonce")}


def test_claims_wait_for_a_held_write_lock_and_count_once(sqlite_settings: Settings) -> None:
    ledger, other = _ledger(sqlite_settings)
    created = datetime.now(UTC)

    async def scenario() -> tuple[list[bool], list[bool], bool]:
        assert await ledger.claim(key_id="tfk_l", nonce="before-lock", created=created)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        claims = [
            asyncio.ensure_future(ledger.claim(key_id="tfk_l", nonce=n, created=created))
            for n in ("locked-1", "locked-2", "locked-1", "before-lock")
        ]
        await asyncio.sleep(0.3)
        answered_while_locked = [c.done() for c in claims]
        assert "locked-1" not in _stored(other)  # nothing written yet
        other.execute("COMMIT")
        results = list(await asyncio.gather(*claims))
        after = await ledger.claim(key_id="tfk_l", nonce="after-lock", created=created)
        return answered_while_locked, results, after

    try:
        answered_while_locked, results, after = asyncio.run(scenario())
        assert answered_while_locked == [False] * 4  # no answer before the row is committed
        assert results == [True, True, False, False]  # a repeat, in a batch or later: refused
        assert after
        assert _stored(other) == {"before-lock", "locked-1", "locked-2", "after-lock"}
    finally:
        other.close()
        ledger.close()


def test_a_true_answer_is_committed_and_the_main_file_untouched(
    sqlite_settings: Settings,
) -> None:
    ledger, other = _ledger(sqlite_settings)
    main_path = sqlite_settings.resolved_database_url.removeprefix("sqlite:///")
    created = datetime.now(UTC)

    async def claim_and_look() -> list[tuple[bool, int]]:
        seen = []
        for i in range(20):
            first = await ledger.claim(key_id="tfk_c", nonce=f"seen-{i:03d}", created=created)
            found = other.execute(
                "SELECT count(*) FROM signature_nonce WHERE nonce = ?", (f"seen-{i:03d}",)
            ).fetchone()[0]
            seen.append((first, found))
        return seen

    with closing(sqlite3.connect(main_path)) as main:
        version = main.execute("PRAGMA data_version").fetchone()[0]
        try:
            assert asyncio.run(claim_and_look()) == [(True, 1)] * 20
        finally:
            other.close()
            ledger.close()
        # data_version moves when another connection commits to the file: it did not
        assert main.execute("PRAGMA data_version").fetchone()[0] == version
    path = nonces_sqlite.nonce_path(engine_for(sqlite_settings.resolved_database_url))
    assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_expired_nonces_are_purged_and_upkeep_is_due_once_per_interval(
    sqlite_settings: Settings,
) -> None:
    path = nonces_sqlite.nonce_path(engine_for(sqlite_settings.resolved_database_url))
    assert path is not None
    writer = nonces_sqlite.NonceFile(path, wait=False)
    now = datetime.now(UTC)
    try:
        assert writer.store([("tfk_p", "expired", now - timedelta(minutes=11))]) == {
            ("tfk_p", "expired")
        }
        due = []
        for i in range(2 * nonces_sqlite.UPKEEP_EVERY - 1):
            assert writer.store([("tfk_p", f"fresh-{i:04d}", now)]) == {("tfk_p", f"fresh-{i:04d}")}
            due.append(writer.upkeep_due())
        writer.upkeep()
        with closing(sqlite3.connect(path)) as db:
            rows = db.execute("SELECT nonce FROM signature_nonce WHERE key_id = 'tfk_p'")
            left = {nonce for (nonce,) in rows}
    finally:
        writer.close()
    assert due.count(True) == 2
    assert "expired" not in left and len(left) == 2 * nonces_sqlite.UPKEEP_EVERY - 1
