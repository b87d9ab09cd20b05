"""Property tests of what a signature covers: query order, percent-encoded paths, empty
and unicode bodies; once on the sign/verify pair, once through the HTTP stack (the
server rebuilds ``@target-uri`` from the raw request line, never a decoded path)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlencode

import httpx
import pytest
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    algorithms,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tenantfusion.apikeys import fastpath
from tenantfusion.apikeys.signing import (
    Message,
    SignatureRejected,
    _Keys,
    _Verifier,
    request_message,
    sign,
    verify,
)
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


def library_verdict(message: Message, body: bytes) -> tuple[list[str], dict[str, object]] | None:
    """What the library alone says: (covered component names, parameters), or None."""
    verifier = _Verifier(
        signature_algorithm=algorithms.HMAC_SHA256, key_resolver=_Keys(lambda _: SECRET.encode())
    )
    try:
        results = verifier.verify(message, max_age=None)
        verifier.verify_body(message, results, body)
    except HTTPMessageSignaturesException:
        return None
    covered = [c.split(";", 1)[0].strip('"') for c in results[0].covered_components]
    covered.remove("@signature-params")
    return covered, dict(results[0].parameters)


header_value = st.text(
    alphabet=st.one_of(st.characters(min_codepoint=0x20, max_codepoint=0x7E), st.just("\t")),
    max_size=8,
)


@given(
    st.sampled_from(["GET", "POST", "DELETE", "OPTIONS"]),
    st.lists(segment, max_size=3),
    st.one_of(st.none(), params),
    st.binary(max_size=32),
    st.lists(st.sampled_from(["x-a", "x-b", "content-type", "@path", "@authority"]), unique=True),
    header_value,
    st.sampled_from(["tf", "sig1", "a.b*"]),
    st.integers(min_value=0, max_value=7),
)
def test_fast_path_agrees_with_the_library(
    method: str,
    segments: list[str],
    query: list[tuple[str, str]] | None,
    body: bytes,
    extra: list[str],
    value: str,
    label: str,
    tamper: int,
) -> None:
    """On requests the library signs with any components, label, header spelling and query
    (then possibly tampered with), the fast path accepts only what the library accepts,
    with the same components and parameters, and accepts the common shape itself."""
    url = f"{BASE}/{'/'.join(quote(s, safe='') for s in segments)}"
    url += f"?{urlencode(query)}" if query is not None else ""
    request = httpx.Request(method, url, content=body)
    fields = [c for c in extra if not c.startswith("@")]
    for name in fields:
        request.headers[name] = value
    message = Message(request.method, str(request.url), request.headers)
    HTTPMessageSigner(
        signature_algorithm=algorithms.HMAC_SHA256, key_resolver=_Keys(lambda _: SECRET.encode())
    ).sign(
        message,
        key_id="tfk_p",
        created=datetime.now(UTC),
        nonce="n0nce-property",
        label=label,
        covered_component_ids=("@method", "@target-uri", *extra),
        body=body,
    )
    lines = list(request.headers.items())
    received_url, received_body = str(request.url), body
    if tamper == 1:
        lines = [(n, v + " ") if n == "signature-input" else (n, v) for n, v in lines]
    elif tamper == 2 and fields:
        lines.append((fields[0], value))  # a second field line
    elif tamper == 3:
        received_url = received_url.replace("/v1/", "/v1//")
    elif tamper == 4:
        received_body = body + b"x"
    elif tamper == 5:
        lines = [(n, v.replace("sha-256", "sha-512")) for n, v in lines]
    received = request_message(method=method, url=received_url, headers=lines)
    fast = fastpath.verify_common(
        method=method,
        url=received_url,
        headers=lines,
        body=received_body,
        lookup=lambda _: SECRET.encode(),
    )
    library = library_verdict(received, received_body)
    if fast is not None:
        assert library is not None and fast == library
    if tamper in (0, 6, 7) and all(v.strip(" \t") == v and v for v in [value] * len(fields)):
        assume(all(c in ("@method", "@target-uri") or not c.startswith("@") for c in extra))
        assert fast is not None and library is not None  # the common shape is taken
