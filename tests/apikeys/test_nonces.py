"""The nonce ledger on each backend: group commit never lets a nonce through twice, within
one batch, across batches, or across replicas (each with its own ledger)."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.api import create_app
from tenantfusion.apikeys.models import SignatureNonce
from tenantfusion.apikeys.nonces import NonceLedger
from tenantfusion.apikeys.nonces_sqlite import nonce_path
from tenantfusion.config import Settings
from tests.apikeys.test_api_keys import new_key, rejected, signed
from tests.conftest import Api


def test_concurrent_claims_on_two_replicas_accept_each_nonce_once(
    sessions: sessionmaker[Session],
) -> None:
    engine = sessions.kw["bind"]
    replicas = [NonceLedger(engine), NonceLedger(engine)]
    created = datetime.now(UTC)
    claims = [(i % 2, f"nonce-{i // 4:04d}") for i in range(200)]  # each nonce 4 times

    async def claim_all() -> list[bool]:
        return list(
            await asyncio.gather(
                *(
                    replicas[replica].claim(key_id="tfk_x", nonce=nonce, created=created)
                    for replica, nonce in claims
                )
            )
        )

    results = asyncio.run(claim_all())
    accepted = sorted(nonce for (_, nonce), ok in zip(claims, results, strict=True) if ok)
    assert accepted == sorted({nonce for _, nonce in claims})  # every nonce exactly once
    again = replicas[0].claim(key_id="tfk_y", nonce="nonce-0000", created=created)
    assert asyncio.run(again)  # nonces are per key
    path = nonce_path(engine)
    if path is not None:  # SQLite: the nonce file
        with closing(sqlite3.connect(path)) as db:
            assert db.execute("SELECT count(*) FROM signature_nonce").fetchone()[0] == 51
    else:
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(SignatureNonce)) == 51
    for replica in replicas:
        replica.close()


def test_a_signed_request_is_refused_on_another_replica(api: Api, settings: Settings) -> None:
    _, boss = api.new_tenant()
    key = new_key(api, boss)
    request = signed(api, key, "GET", "/v1/auth/tokens")
    assert api.client.send(request).status_code == 200
    with TestClient(create_app(settings, run_worker=False)) as other_replica:
        rejected(other_replica.send(request), "replayed-nonce")
    rejected(api.client.send(request), "replayed-nonce")
