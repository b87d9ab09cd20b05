"""The SQLite ledger writes on the event loop: a nonce is answered only once its row is
committed, also while another connection holds the write lock (then the writer thread
waits for it); the rows it writes are the service's rows (purged alike)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.apikeys import nonces_sqlite, service
from tenantfusion.apikeys.models import SignatureNonce
from tenantfusion.apikeys.nonces import NonceLedger
from tenantfusion.config import Settings
from tenantfusion.db import engine_for, session_factory


def _other_connection(settings: Settings) -> sqlite3.Connection:
    path = settings.resolved_database_url.removeprefix("sqlite:///")
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


def _stored(sessions: sessionmaker[Session]) -> dict[str, datetime]:
    with sessions() as db:
        rows = db.execute(select(SignatureNonce.nonce, SignatureNonce.expires_at)).all()
    return {nonce: expires for nonce, expires in rows}


def test_claims_wait_for_a_held_write_lock_and_count_once(sqlite_settings: Settings) -> None:
    sessions = session_factory(sqlite_settings)
    ledger = NonceLedger(engine_for(sqlite_settings.resolved_database_url))
    created = datetime.now(UTC)
    other = _other_connection(sqlite_settings)

    async def scenario() -> tuple[list[bool], list[bool], bool]:
        assert await ledger.claim(key_id="tfk_l", nonce="before-lock", created=created)
        other.execute("BEGIN IMMEDIATE")  # another writer (process or replica) holds it
        claims = [
            asyncio.ensure_future(ledger.claim(key_id="tfk_l", nonce=n, created=created))
            for n in ("locked-1", "locked-2", "locked-1", "before-lock")
        ]
        await asyncio.sleep(0.3)
        answered_while_locked = [c.done() for c in claims]
        assert "locked-1" not in _stored(sessions)  # nothing written yet
        other.execute("COMMIT")
        results = list(await asyncio.gather(*claims))
        after = await ledger.claim(key_id="tfk_l", nonce="after-lock", created=created)
        return answered_while_locked, results, after

    try:
        answered_while_locked, results, after = asyncio.run(scenario())
    finally:
        other.close()
        ledger.close()
    assert answered_while_locked == [False] * 4  # no answer before the row is committed
    assert results == [True, True, False, False]  # a repeat, within a batch or later, refused
    assert after
    assert set(_stored(sessions)) == {"before-lock", "locked-1", "locked-2", "after-lock"}


def test_a_claim_answered_true_is_committed_for_every_connection(
    sqlite_settings: Settings,
) -> None:
    ledger = NonceLedger(engine_for(sqlite_settings.resolved_database_url))
    other = _other_connection(sqlite_settings)
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

    try:
        assert asyncio.run(claim_and_look()) == [(True, 1)] * 20
    finally:
        other.close()
        ledger.close()


def test_loop_rows_are_the_service_rows_and_are_purged(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engine_for(sqlite_settings.resolved_database_url)
    sessions = session_factory(sqlite_settings)
    created = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    writer = nonces_sqlite.LoopWriter(engine)
    try:
        assert writer.store([("tfk_r", "by-loop", created)]) == {("tfk_r", "by-loop")}
        assert writer.store([("tfk_r", "by-loop", created)]) == set()
    finally:
        writer.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        stored = service.store_nonces(db=db, nonces=[("tfk_r", "by-service", created)])
        assert stored == {("tfk_r", "by-service")}
    rows = _stored(sessions)
    assert rows["by-loop"] == rows["by-service"] == created + service.NONCE_KEPT
    monkeypatch.setattr(service, "_last_purge", 0.0)  # due (it runs at most once a minute)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        nonces_sqlite.upkeep(db)
    assert _stored(sessions) == {}  # both long expired


def test_upkeep_is_due_once_per_interval(sqlite_settings: Settings) -> None:
    writer = nonces_sqlite.LoopWriter(engine_for(sqlite_settings.resolved_database_url))
    created = datetime.now(UTC) + timedelta(seconds=1)
    try:
        due = []
        for i in range(2 * nonces_sqlite.UPKEEP_EVERY):
            assert writer.store([("tfk_u", f"u-{i:04d}", created)]) == {("tfk_u", f"u-{i:04d}")}
            due.append(writer.upkeep_due())
    finally:
        writer.close()
    assert due.count(True) == 2
