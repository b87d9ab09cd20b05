"""API keys through the real API: create (secret once, stored encrypted), sign, revoke,
expire; a request signed by an independent RFC 9421 client verifies; tampered, expired
or replayed requests are refused with a reason."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import requests
from http_message_signatures import algorithms
from requests_http_signature import HTTPSignatureAuth
from sqlalchemy import text, update

from tenantfusion.apikeys import service
from tenantfusion.apikeys.models import ApiKey
from tenantfusion.apikeys.signing import Message, sign
from tenantfusion.client.signing import ApiKeyAuth
from tests.conftest import Api
from tests.platform.test_views import assert_problem


def new_key(api: Api, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = api.client.post("/v1/api-keys", headers=headers, json={"name": "ci", **body})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def rejected(r: httpx.Response, reason: str) -> None:
    body = assert_problem(r, 401, "signature-rejected")
    assert body["reason"] == reason, body


def signed(api: Api, key: dict[str, Any], method: str, path: str, **kw: Any) -> httpx.Request:
    """A request signed with ``key`` (not sent yet)."""
    request = api.client.build_request(method, path, **kw)
    message = Message(method=request.method, url=str(request.url), headers=request.headers)
    sign(message=message, body=request.content, key_id=key["key_id"], secret=key["secret"])
    return request


def test_create_use_list_revoke(sqlite_api: Api) -> None:
    api = sqlite_api
    tenant, boss = api.new_tenant()
    key = new_key(api, boss, expires_in_days=30)
    assert key["key_id"].startswith("tfk_") and key["secret"].startswith("tfs_")
    auth = ApiKeyAuth(key_id=key["key_id"], secret=key["secret"])
    me = api.client.get("/v1/auth/tokens", auth=auth)
    assert me.status_code == 200 and me.json()["username"] == "boss", me.text
    # a signed write with a body, as the tenant admin
    r = api.client.post(
        f"/v1/tenants/{tenant['id']}/users",
        auth=auth,
        json={"username": "robot", "password": "robot-password"},
    )
    assert r.status_code == 201, r.text
    listed = api.client.get("/v1/api-keys", auth=auth).json()["items"]
    assert [k["key_id"] for k in listed] == [key["key_id"]] and "secret" not in listed[0]
    with api.sessions() as db:  # stored encrypted, never in clear
        stored = db.execute(text("SELECT secret FROM api_key")).scalar_one()
    assert stored.startswith("gAAAA") and key["secret"] not in stored
    # another user does not see it
    other = api.new_tenant()[1]
    assert_problem(api.client.get(f"/v1/api-keys/{key['key_id']}", headers=other), 404, "not-found")
    assert api.client.delete(f"/v1/api-keys/{key['key_id']}", headers=boss).status_code == 204
    rejected(api.client.get("/v1/auth/tokens", auth=auth), "key-revoked")


def test_expired_key_and_unknown_key(sqlite_api: Api) -> None:
    api = sqlite_api
    _, boss = api.new_tenant()
    key = new_key(api, boss)
    with api.sessions() as db:
        db.execute(
            update(ApiKey)
            .where(ApiKey.key_id == key["key_id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.commit()
    service._cache.clear()  # another replica's view: past the 1 s cache
    auth = ApiKeyAuth(key_id=key["key_id"], secret=key["secret"])
    rejected(api.client.get("/v1/auth/tokens", auth=auth), "key-expired")
    ghost = ApiKeyAuth(key_id="tfk_nobody", secret=key["secret"])
    rejected(api.client.get("/v1/auth/tokens", auth=ghost), "unknown-key")
    wrong = ApiKeyAuth(key_id=new_key(api, boss)["key_id"], secret="tfs_wrong")
    rejected(api.client.get("/v1/auth/tokens", auth=wrong), "bad-signature")
    rejected(api.client.get("/v1/auth/tokens", headers={"Signature-Input": "x"}), "malformed")


def test_independent_rfc9421_client_verifies(sqlite_api: Api) -> None:
    """requests-http-signature signs with its own request model and digest handling."""
    api = sqlite_api
    _, boss = api.new_tenant()
    key = new_key(api, boss)
    auth = HTTPSignatureAuth(
        signature_algorithm=algorithms.HMAC_SHA256,
        key=key["secret"].encode(),
        key_id=key["key_id"],
        covered_component_ids=("@method", "@target-uri"),
        use_nonce=True,
    )
    for method, path, body in (
        ("GET", "/v1/api-keys?b=2&a=1", None),
        ("POST", "/v1/api-keys", {"name": "from-requests", "expires_in_days": 1}),
    ):
        prepared = requests.Request(method, f"http://testserver{path}", json=body).prepare()
        auth(prepared)
        assert "content-digest" in prepared.headers["Signature-Input"]
        r = api.client.request(
            method, path, headers=dict(prepared.headers), content=prepared.body or b""
        )
        assert r.status_code in (200, 201), r.text


def test_tampered_expired_and_replayed_requests_are_refused(sqlite_api: Api) -> None:
    api = sqlite_api
    tenant, boss = api.new_tenant()
    key = new_key(api, boss)
    path = f"/v1/tenants/{tenant['id']}/users"
    body = {"username": "mallory", "password": "mallory-password"}

    def replay(request: httpx.Request, **changes: Any) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items() if k != "content-length"}
        return api.client.request(
            changes.get("method", request.method),
            changes.get("url", request.url),
            headers=headers,
            content=changes.get("content", request.content),
        )

    listing = signed(api, key, "GET", "/v1/api-keys")
    rejected(replay(listing, method="POST"), "bad-signature")
    good = signed(api, key, "POST", path, json=body)
    other = api.new_tenant()[0]
    rejected(replay(good, url=f"http://testserver/v1/tenants/{other['id']}/users"), "bad-signature")
    rejected(replay(good, url=f"http://testserver{path}?admin=1"), "bad-signature")
    rejected(
        replay(good, content=b'{"username":"root","password":"mallory-password"}'),
        "digest-mismatch",
    )
    assert replay(good).status_code == 201  # untouched: accepted once
    rejected(replay(good), "replayed-nonce")
    for minutes, reason in ((-6, "expired"), (6, "created-in-future")):
        stale = api.client.build_request("GET", "/v1/auth/tokens")
        sign(
            message=Message(stale.method, str(stale.url), stale.headers),
            body=b"",
            key_id=key["key_id"],
            secret=key["secret"],
            created=datetime.now(UTC) + timedelta(minutes=minutes),
        )
        rejected(api.client.send(stale), reason)
    # a signature that leaves the body out of its coverage is refused
    bare = api.client.build_request("GET", "/v1/auth/tokens")
    HTTPSignatureAuth(
        signature_algorithm=algorithms.HMAC_SHA256,
        key=key["secret"].encode(),
        key_id=key["key_id"],
        use_nonce=True,
    ).signer.sign(
        Message(bare.method, str(bare.url), bare.headers),
        key_id=key["key_id"],
        nonce="n" * 16,
        created=datetime.fromtimestamp(time.time()),
        covered_component_ids=("@method", "@target-uri"),
    )
    rejected(api.client.send(bare), "missing-component")


def test_openapi_documents_tokens_and_signatures(sqlite_api: Api) -> None:
    spec = sqlite_api.client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["token"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": schemes["token"]["description"],
    }
    assert schemes["signature"]["in"] == "header" and schemes["signature"]["name"] == "Signature"
    for header in ("Signature-Input", "Content-Digest", "hmac-sha256", "nonce"):
        assert header in schemes["signature"]["description"]
    secured = {
        (method.upper(), path): op.get("security")
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if path.startswith("/v1/")
    }
    assert secured.pop(("POST", "/v1/auth/tokens")) is None  # the login itself
    assert {str(s) for s in secured.values()} == {str([{"token": []}, {"signature": []}])}
