"""Signing CLI requests with a saved API key (RFC 9421, ``hmac-sha256``), as an httpx auth
on the same maintained library the server verifies with."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from tenantfusion.apikeys.signing import Message, sign


class ApiKeyAuth(httpx.Auth):
    """Signs each request: ``@method``, ``@target-uri``, ``content-digest``, ``created``
    and a fresh ``nonce``."""

    requires_request_body = True

    def __init__(self, *, key_id: str, secret: str) -> None:
        self.key_id = key_id
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        message = Message(method=request.method, url=str(request.url), headers=request.headers)
        sign(message=message, body=request.content, key_id=self.key_id, secret=self._secret)
        yield request
