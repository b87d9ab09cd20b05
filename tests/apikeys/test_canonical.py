"""Property tests of what a signature covers: query order, percent-encoded paths, empty
and unicode bodies; once on the sign/verify pair, once through the HTTP stack (the
server rebuilds ``@target-uri`` from the raw request line, never a decoded path)."""

from __future__ import annotations

import json
from urllib.parse import quote, unquote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tenantfusion.apikeys.signing import Message, SignatureRejected, request_message, sign, verify
from tenantfusion.client.signing import ApiKeyAuth
from tests.conftest import Api

SECRET = "tfs_property-secret"
BASE = "http://api.example:8080/v1/things"
params = st.lists(
    st.tuples(st.text(min_size=1, max_size=6), st.text(max_size=6)), min_size=2, max_size=5
)
segment = st.text(min_size=1, max_size=12).filter(lambda s: "/" not in s and s.strip("."))


def signed_message(method: str, url: str, body: bytes) -> Message:
    request = httpx.Request(method, url, content=body)
    sign(
        message=Message(request.method, str(request.url), request.headers),
        body=body,
        key_id="tfk_p",
        secret=SECRET,
    )
    return request_message(
        method=request.method, url=str(request.url), headers=list(request.headers.items())
    )


def check(message: Message, body: bytes, *, url: str | None = None) -> str:
    """ "ok", or the reason the (possibly re-targeted) message is refused."""
    if url is not None:
        message = Message(method=message.method, url=url, headers=message.headers)
    try:
        verify(message=message, body=body, lookup=lambda _: SECRET.encode())
    except SignatureRejected as e:
        return e.reason
    return "ok"


@given(params, st.randoms())
def test_query_order_is_covered_as_sent(pairs: list[tuple[str, str]], rnd: object) -> None:
    url = f"{BASE}?{urlencode(pairs)}"
    message = signed_message("GET", url, b"")
    assert check(message, b"") == "ok"
    shuffled = list(pairs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    other = f"{BASE}?{urlencode(shuffled)}"
    assert check(message, b"", url=other) == ("ok" if other == url else "bad-signature")


@given(st.lists(segment, min_size=1, max_size=4))
def test_percent_encoded_paths_verify_only_as_sent(segments: list[str]) -> None:
    path = "/".join(quote(s, safe="") for s in segments)
    url = f"{BASE}/{path}"
    message = signed_message("DELETE", url, b"")
    assert check(message, b"") == "ok"
    for variant in (f"{BASE}/{unquote(path)}", f"{BASE}/{path.lower()}"):
        if variant != url:  # a decoded or re-cased path is another target
            assert check(message, b"", url=variant) in ("bad-signature", "malformed")


@given(
    st.one_of(
        st.just(b""),
        st.binary(max_size=64),
        st.text().map(lambda t: json.dumps({"name": t}, ensure_ascii=False).encode()),
    )
)
def test_bodies_empty_binary_and_unicode(body: bytes) -> None:
    message = signed_message("POST", BASE, body)
    assert check(message, body) == "ok"
    tampered = body[:-1] + bytes([body[-1] ^ 1]) if body else b" "
    assert check(message, tampered) == "digest-mismatch"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_through_the_http_stack(sqlite_api: Api, method: str) -> None:
    """The server accepts what httpx sends for any path segment and query; the answer is
    the route's own (404 naming the key), never a signature refusal."""
    api = sqlite_api
    _, boss = api.new_tenant()
    key = api.client.post("/v1/api-keys", headers=boss, json={"name": "p"}).json()
    auth = ApiKeyAuth(key_id=key["key_id"], secret=key["secret"])

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(segment, params)
    def run(ref: str, query: list[tuple[str, str]]) -> None:
        assume(not ref.startswith(("tfk_",)))
        r = api.client.request(
            method, f"/v1/api-keys/{quote(ref, safe='')}", params=query, auth=auth
        )
        assert r.status_code == 404 and r.json()["detail"].startswith("api key"), r.text

    run()
