"""RFC 9421 HTTP Message Signatures with ``hmac-sha256``, on the maintained
``http-message-signatures`` implementation (both sides: the API verifies, the CLI signs).

A request is accepted when exactly one signature covers at least ``@method``,
``@target-uri`` and ``content-digest`` (RFC 9530, checked against the body received),
carries ``keyid``, ``created`` within ±5 minutes and a ``nonce``, and verifies under the
key's secret. The nonce's single use is the caller's (a shared store). Anything else
raises SignatureRejected naming the reason.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)

from tenantfusion.apikeys import fastpath
from tenantfusion.errors import NotAuthenticated

ALGORITHM = "hmac-sha256"
#: Components every signature must cover.
REQUIRED_COMPONENTS = ("@method", "@target-uri", "content-digest")
#: How far ``created`` may be from the server's clock, either way.
WINDOW = timedelta(minutes=5)
NONCE_MAX_LENGTH = 128
LABEL = "tf"


class SignatureRejected(NotAuthenticated):
    """A signed request that is not accepted; ``reason`` is a stable slug."""

    type, title = "signature-rejected", "Request signature rejected"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail, reason=reason)
        self.reason = reason


@dataclass
class Message:
    """What the library reads of a request: method, absolute URL as sent, header lines
    (``items()`` of name/value pairs; signing also writes to them)."""

    method: str
    url: str
    headers: Any


@dataclass(frozen=True)
class Verified:
    key_id: str
    nonce: str
    created: datetime


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, lookup: Callable[[str], bytes]) -> None:
        self._lookup = lookup

    def resolve_public_key(self, key_id: str) -> bytes:
        return self._lookup(key_id)

    def resolve_private_key(self, key_id: str) -> bytes:
        return self._lookup(key_id)


class _Verifier(HTTPMessageVerifier):
    #: The library refuses a ``created`` this far in the future; the window is ours.
    max_clock_skew = WINDOW
    require_created = True


class _Fields:
    """Read-only header lines (the library calls ``items()``)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return self._pairs


def request_message(*, method: str, url: str, headers: list[tuple[str, str]]) -> Message:
    """A received request, for ``verify``."""
    return Message(method=method, url=url, headers=_Fields(headers))


def _component(name: str) -> str:
    return name.split(";", 1)[0].strip('"')


def verify_common(
    *, message: Message, body: bytes, lookup: Callable[[str], bytes], now: float | None = None
) -> Verified | None:
    """``verify`` for a request of the common shape (``fastpath``), or None: then only
    ``verify`` decides. Raises SignatureRejected (from ``lookup``, or the policy)."""
    common = fastpath.verify_common(
        method=message.method,
        url=message.url,
        headers=message.headers.items(),
        body=body,
        lookup=lookup,
    )
    return None if common is None else _accepted(components=common[0], params=common[1], now=now)


def verify(
    *, message: Message, body: bytes, lookup: Callable[[str], bytes], now: float | None = None
) -> Verified:
    """Check a signed request (see the module docstring). ``lookup`` gives a key id's
    secret or raises SignatureRejected. Raises SignatureRejected."""
    present = {name.lower() for name, _ in message.headers.items()}
    if not {"signature-input", "signature"} <= present:
        raise SignatureRejected(
            "a signed request carries both Signature-Input and Signature", reason="malformed"
        )
    common = verify_common(message=message, body=body, lookup=lookup, now=now)
    if common is not None:
        return common
    verifier = _Verifier(signature_algorithm=algorithms.HMAC_SHA256, key_resolver=_Keys(lookup))
    try:
        results = verifier.verify(message, max_age=None)
    except InvalidSignature as e:
        if isinstance(e.__cause__, SignatureRejected):
            raise e.__cause__ from None
        reason = "created-in-future" if "future" in str(e) else "bad-signature"
        raise SignatureRejected(f"the signature does not verify: {e}", reason=reason) from e
    except HTTPMessageSignaturesException as e:
        raise SignatureRejected(f"malformed signature: {e}", reason="malformed") from e
    result = results[0]
    covered = [_component(c) for c in result.covered_components]
    verified = _accepted(components=covered, params=result.parameters, now=now)
    try:
        verifier.verify_body(message, results, body)
    except (InvalidSignature, HTTPMessageSignaturesException) as e:
        raise SignatureRejected(
            "content-digest does not match the body received", reason="digest-mismatch"
        ) from e
    return verified


def _accepted(*, components: list[str], params: Mapping[str, Any], now: float | None) -> Verified:
    """The policy on a signature that verifies: required components, ``created`` within
    the window, a nonce. Raises SignatureRejected."""
    missing = [c for c in REQUIRED_COMPONENTS if c not in components]
    if missing:
        raise SignatureRejected(
            f"the signature must cover {list(REQUIRED_COMPONENTS)}; missing {missing}",
            reason="missing-component",
        )
    created = int(params["created"])
    clock = time.time() if now is None else now
    if abs(clock - created) > WINDOW.total_seconds():
        reason = "expired" if created < clock else "created-in-future"
        raise SignatureRejected(
            f"created {created} is more than {int(WINDOW.total_seconds())} s from now",
            reason=reason,
        )
    nonce = params.get("nonce")
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= NONCE_MAX_LENGTH:
        raise SignatureRejected(
            f"the signature needs a nonce of 8 to {NONCE_MAX_LENGTH} characters",
            reason="missing-nonce",
        )
    return Verified(
        key_id=str(params["keyid"]), nonce=nonce, created=datetime.fromtimestamp(created, UTC)
    )


def sign(
    *,
    message: Message,
    body: bytes,
    key_id: str,
    secret: str,
    created: datetime | None = None,
    nonce: str | None = None,
) -> None:
    """Add ``Content-Digest``, ``Signature-Input`` and ``Signature`` to ``message``'s
    headers: ``@method``, ``@target-uri`` and ``content-digest`` covered, a fresh nonce.
    The HMAC key is the UTF-8 bytes of the secret as shown at creation."""
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.HMAC_SHA256,
        key_resolver=_Keys(lambda _: secret.encode()),
    )
    signer.sign(
        message,
        key_id=key_id,
        created=created or datetime.now(UTC),
        nonce=nonce or secrets.token_urlsafe(16),
        label=LABEL,
        covered_component_ids=("@method", "@target-uri"),
        body=body,
    )
