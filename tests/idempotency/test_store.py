"""The Idempotency-Key store on SQLite and PostgreSQL, and the guard through the real API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.client.http import Client
from tenantfusion.idempotency import service
from tenantfusion.idempotency.service import Answer, KeyInProgress, KeyReused
from tests.conftest import Api


def claim(sessions: sessionmaker[Session], key: str, fp: str, lock: float = 60) -> Any:
    with sessions() as db:
        return service.claim(db=db, key=key, fingerprint=fp, lock_seconds=lock, ttl_seconds=60)


def test_claim_finish_replay_reuse_and_takeover(sessions: sessionmaker[Session]) -> None:
    key = service.key_id(scope="tenant-1", key="k1")
    assert claim(sessions, key, "fp") is None  # owned by this attempt
    with pytest.raises(KeyInProgress):
        claim(sessions, key, "fp")
    with pytest.raises(KeyReused):
        claim(sessions, key, "another body")
    with sessions() as db:
        service.finish(db=db, key=key, answer=Answer(201, "application/json", b'{"id": 1}'))
    assert claim(sessions, key, "fp") == Answer(201, "application/json", b'{"id": 1}')
    # an attempt that died holding its key: a retry takes over once the lock ran out
    dead = service.key_id(scope="tenant-1", key="k2")
    assert claim(sessions, dead, "fp", lock=0.2) is None
    time.sleep(0.4)
    assert claim(sessions, dead, "fp") is None
    with pytest.raises(KeyInProgress):
        claim(sessions, dead, "fp")
    # a request that still runs renews its lock (its heartbeat): no takeover
    alive = service.key_id(scope="tenant-1", key="k3")
    assert claim(sessions, alive, "fp", lock=0.5) is None
    for _ in range(3):
        time.sleep(0.3)
        with sessions() as db:
            service.renew(db=db, key=alive, lock_seconds=0.5)
    with pytest.raises(KeyInProgress):
        claim(sessions, alive, "fp")
    # a 5xx releases the key: the retry runs again
    with sessions() as db:
        service.release(db=db, key=dead)
    assert claim(sessions, dead, "fp") is None
    # the same key of another tenant is another key
    assert service.key_id(scope="tenant-2", key="k1") != key


def test_api_replays_and_refuses_another_body(api: Api) -> None:
    headers = {**api.admin, "Idempotency-Key": "create-acme-1"}
    body = {"name": "acme", "admin": {"username": "boss", "password": "boss-password"}}
    first = api.client.post("/v1/tenants", headers=headers, json=body)
    assert first.status_code == 201, first.text
    again = api.client.post("/v1/tenants", headers=headers, json=body)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.client.post("/v1/tenants", headers=headers, json={**body, "name": "acme-2"})
    assert other.status_code == 422
    assert other.json()["type"] == "idempotency-key-reused"
    listed = api.client.get("/v1/tenants", headers=api.admin).json()
    names = [t["name"] for t in listed["items"]]
    assert names.count("acme") == 1 and "acme-2" not in names
    # errors are answers too: a 409 is replayed, not re-run
    dup = {**api.admin, "Idempotency-Key": "dup"}
    assert api.client.post("/v1/tenants", headers=dup, json=body).status_code == 409
    assert api.client.post("/v1/tenants", headers=dup, json=body).status_code == 409
    bad = api.client.post("/v1/tenants", headers={**api.admin, "Idempotency-Key": ""}, json=body)
    assert bad.status_code == 422


def test_cli_client_resends_a_lost_call_with_the_same_key() -> None:
    seen: list[str] = []
    script = ["timeout", "in-progress"]  # then 201s

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Idempotency-Key"])
        step = script.pop(0) if script else "created"
        if step == "timeout":
            raise httpx.ReadTimeout("lost", request=request)
        if step == "in-progress":
            return httpx.Response(409, json={"type": "idempotency-in-progress", "title": "running"})
        return httpx.Response(201, json={"id": "x"})

    client = Client(url="http://127.0.0.1:9")
    client._http = httpx.Client(
        base_url="http://127.0.0.1:9", transport=httpx.MockTransport(answer)
    )
    assert client.call("POST", "/v1/networks", json={"name": "n"}) == {"id": "x"}
    assert len(seen) == 3 and len(set(seen)) == 1
    seen.clear()
    client.call("POST", "/v1/networks", json={"name": "n"})
    client.call("POST", "/v1/networks", json={"name": "n"})
    assert len(seen) == 2 and len(set(seen)) == 2  # a new invocation is a new request
