"""Rejected signatures are throttled like password logins: five for one key id (or from
one address) lock it, a valid signature then answers 429 with Retry-After, the lockout
backs off, and each rejection is audited without the signature."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenantfusion.api import create_app
from tenantfusion.audit.models import AuditEvent
from tenantfusion.client.signing import ApiKeyAuth
from tenantfusion.platform.models import LoginFailure
from tests.apikeys.test_api_keys import new_key, rejected
from tests.conftest import Api, _truncate, make_api, make_settings
from tests.platform.test_views import assert_problem


@pytest.fixture
def quick_api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    """The API with the default limit (5) and a 1 s first lockout."""
    yield from make_api(make_settings(database_url, tmp_path, login_lockout_seconds=1.0))
    _truncate(database_url)


def auths(key: dict[str, Any]) -> tuple[ApiKeyAuth, ApiKeyAuth]:
    return (
        ApiKeyAuth(key_id=key["key_id"], secret=key["secret"]),
        ApiKeyAuth(key_id=key["key_id"], secret="tfs_guessed"),
    )


def test_bad_signatures_lock_the_key_then_back_off(quick_api: Api) -> None:
    api = quick_api
    _, boss = api.new_tenant()
    key = new_key(api, boss)
    good, bad = auths(key)
    for _ in range(5):
        rejected(api.client.get("/v1/auth/tokens", auth=bad), "bad-signature")
    r = api.client.get("/v1/auth/tokens", auth=good)  # the right secret, but locked
    body = assert_problem(r, 429, "too-many-attempts")
    assert int(r.headers["Retry-After"]) == body["retry_after"] == 1
    time.sleep(1.1)
    assert api.client.get("/v1/auth/tokens", auth=good).status_code == 200
    rejected(api.client.get("/v1/auth/tokens", auth=bad), "bad-signature")  # the 6th
    r = api.client.get("/v1/auth/tokens", auth=good)
    assert r.status_code == 429 and r.headers["Retry-After"] == "2", r.text  # doubled
    # bearer tokens and other keys are not throttled
    assert api.client.get("/v1/auth/tokens", headers=boss).status_code == 200
    with api.sessions() as db:
        events = list(
            db.scalars(select(AuditEvent).where(AuditEvent.action == "api_key.signature_rejected"))
        )
    assert len(events) == 6
    assert {(e.target_id, e.result, e.error_type) for e in events} == {
        (key["key_id"], "denied", "signature-rejected")
    }
    assert all(e.detail["reason"] == "bad-signature" for e in events)
    assert all("tfs_" not in str(e.detail) and e.source == "testclient" for e in events)


def test_many_key_ids_from_one_address_lock_the_address(
    quick_api: Api, database_url: str, tmp_path: Path
) -> None:
    api = quick_api
    _, boss = api.new_tenant()
    key = new_key(api, boss)
    for i in range(5):
        ghost = ApiKeyAuth(key_id=f"tfk_guess{i}", secret="tfs_guessed")
        rejected(api.client.get("/v1/auth/tokens", auth=ghost), "unknown-key")
    good, _ = auths(key)
    assert_problem(api.client.get("/v1/auth/tokens", auth=good), 429, "too-many-attempts")
    # the key itself is not locked: from another address (and another replica) it works
    app = create_app(make_settings(database_url, tmp_path), run_worker=False)
    with TestClient(app, client=("127.0.0.9", 50000)) as elsewhere:
        assert elsewhere.get("/v1/auth/tokens", auth=good).status_code == 200


def test_a_rejected_request_counts_once(quick_api: Api) -> None:
    """A signed write with an Idempotency-Key is checked by two dependencies: the
    rejection is counted and audited once."""
    api = quick_api
    _, boss = api.new_tenant()
    _, bad = auths(new_key(api, boss))
    r = api.client.post(
        "/v1/api-keys", auth=bad, json={"name": "x"}, headers={"Idempotency-Key": "k-1"}
    )
    rejected(r, "bad-signature")
    with api.sessions() as db:
        actions = list(db.scalars(select(AuditEvent.action)))
        failures = db.scalar(
            select(LoginFailure.failures).where(LoginFailure.key.like("sig:key:%"))
        )
    assert actions.count("api_key.signature_rejected") == 1 and failures == 1
