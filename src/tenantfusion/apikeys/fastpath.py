"""A precompiled check of the common shape of RFC 9421 ``hmac-sha256`` request
signatures, tried before the library (``signing.verify``).

It accepts only a strict subset, where the library's result is known to be the same
string: one signature, components that are plain quoted names (``@method``,
``@target-uri`` or a field appearing on one line), parameters that are small integers
or strings without escapes, an ASCII URL of the simplest RFC 3986 form, and a one-member
``sha-256`` Content-Digest. There the Signature-Input member, as sent, is already the
serialised ``@signature-params``, so the signature base is a join, not a parse.
Anything else, and anything that does not verify, answers None: the library then decides
and names the reason. So this path can only spare work, never accept what the library
would refuse (tested against it with Hypothesis).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable

_KEY = r"[a-z*][a-z0-9_\-.*]*"
_PARAM = r';([a-z][a-z0-9_\-.*]*)=(0|[1-9][0-9]{0,14}|"[ !#-\[\]-~]*")'
_SIGNATURE_INPUT = re.compile(rf'({_KEY})=\(("[a-z0-9@\-]+"(?: "[a-z0-9@\-]+")*)\)((?:{_PARAM})+)')
_PARAMS = re.compile(_PARAM)
_SIGNATURE = re.compile(rf"({_KEY})=:([A-Za-z0-9+/]+={{0,2}}):")
_CONTENT_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/]{43}=):")
_PCHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@\-]|%[0-9A-Fa-f]{2})"
_URL = re.compile(rf"https?://[A-Za-z0-9.\-]+(?::[0-9]+)?(?:/{_PCHAR}*)+(?:\?(?:{_PCHAR}|[/?])*)?")
_METHOD = re.compile(r"[A-Z]+")
_FIELD_VALUE = re.compile(r"[!-~](?:[ -~]*[!-~])?")
_METADATA = {"created", "keyid", "nonce", "alg", "tag"}


def _fields(headers: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value in headers:
        fields.setdefault(name.lower(), []).append(value)
    return fields


def _b64(value: str) -> bytes | None:
    try:
        decoded = base64.b64decode(value, validate=True)
    except binascii.Error:
        return None
    return decoded if base64.b64encode(decoded).decode() == value else None


def verify_common(
    *,
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    lookup: Callable[[str], bytes],
) -> tuple[list[str], dict[str, str | int]] | None:
    """(covered component names, parameters) when the request is of the common shape
    and verifies, including its Content-Digest against ``body``; else None. ``lookup``
    may raise (an unknown or revoked key), as it does under the library."""
    fields = _fields(headers)
    inputs, signatures = fields.get("signature-input", []), fields.get("signature", [])
    if len(inputs) != 1 or len(signatures) != 1 or _METHOD.fullmatch(method) is None:
        return None
    shape = _SIGNATURE_INPUT.fullmatch(inputs[0])
    signature = _SIGNATURE.fullmatch(signatures[0])
    if shape is None or signature is None or shape[1] != signature[1]:
        return None
    params: dict[str, str | int] = {}
    for name, raw in _PARAMS.findall(shape[3]):
        if name in params or name not in _METADATA:
            return None
        params[name] = raw[1:-1] if raw.startswith('"') else int(raw)
    names = [quoted[1:-1] for quoted in shape[2].split(" ")]
    if (
        len(set(names)) != len(names)
        or not isinstance(params.get("created"), int)
        or not isinstance(params.get("keyid"), str)
        or not isinstance(params.get("nonce"), str)
        or params.get("alg", "hmac-sha256") != "hmac-sha256"
        or _URL.fullmatch(url) is None
    ):
        return None
    lines = []
    for name in names:
        if name == "@method":
            value = method
        elif name == "@target-uri":
            value = url
        elif name.startswith("@") or len(fields.get(name, ())) != 1:
            return None
        else:
            value = fields[name][0].strip(" \t")
            if _FIELD_VALUE.fullmatch(value) is None:
                return None
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {inputs[0][len(shape[1]) + 1 :]}')
    sent = _b64(signature[2])
    digest = _CONTENT_DIGEST.fullmatch(fields.get("content-digest", [""])[0])
    if sent is None or "content-digest" not in names or digest is None:
        return None
    key = lookup(str(params["keyid"]))
    expected = hmac.digest(key, "\n".join(lines).encode(), "sha256")
    if not hmac.compare_digest(expected, sent) or not hmac.compare_digest(
        _b64(digest[1]) or b"", hashlib.sha256(body).digest()
    ):
        return None
    return names, params
