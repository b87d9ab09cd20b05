"""ASGI middleware guarding every route: body size and JSON depth limits, security headers.

A body larger than ``max_body_bytes`` is refused with 413 whether it announces its
``Content-Length`` or streams; JSON nested deeper than ``max_json_depth`` is refused with
422 before any parser sees it (a deep document would exhaust Python's recursion). The one
exception: requests ``streamed`` says stream their body (the facade's image data, bounded
by ``compat.upload`` instead) pass unread.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_DOCS_PATHS = ("/docs", "/redoc")
CSP_API = "default-src 'none'; frame-ancestors 'none'"
CSP_CONSOLE = "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
CSP_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'; base-uri 'none'"
)


class _TooLarge(Exception):
    pass


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays/objects in ``body`` (strings are skipped)."""
    depth = deepest = 0
    for m in _BRACKET.finditer(_STRING.sub(b'""', body)):
        if m.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def problem_bytes(status: int, type_: str, title: str, detail: str, instance: str) -> bytes:
    """An RFC 9457 body (the same shape ``problems.py`` renders)."""
    body = {"type": type_, "title": title, "status": status, "detail": detail}
    body["instance"] = instance
    return json.dumps(body).encode()


def security_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """Headers every response carries; HSTS only over https."""
    path: str = scope.get("path", "")
    if path.startswith(_DOCS_PATHS):
        csp = CSP_DOCS
    elif path.startswith(("/console", "/static")) or path == "/":
        csp = CSP_CONSOLE
    else:
        csp = CSP_API
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"content-security-policy", csp.encode()),
    ]
    if scope.get("scheme") == "https":
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
    return headers


class GuardMiddleware:
    """Limits request bodies and adds security headers to every response."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_json_depth: int,
        streamed: Callable[[Scope], bool] = lambda _: False,
    ) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.max_depth = max_json_depth
        #: requests whose body their route reads as it arrives and bounds itself
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        if scope["method"] not in BODY_METHODS or self.streamed(scope):
            await self.app(scope, receive, send_secured)
            return
        headers = dict(scope.get("headers") or [])
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        try:
            if declared > self.max_body:
                raise _TooLarge
            body = await self._read(receive)
        except _TooLarge:
            await self._refuse(
                scope,
                send_secured,
                413,
                "body-too-large",
                "Request body too large",
                f"the request body exceeds {self.max_body} bytes",
            )
            return
        content_type = headers.get(b"content-type", b"")
        if b"json" in content_type and json_depth(body) > self.max_depth:
            await self._refuse(
                scope,
                send_secured,
                422,
                "invalid-input",
                "Invalid input",
                f"JSON nested deeper than {self.max_depth} levels",
            )
            return
        await self.app(scope, _replay(body, receive), send_secured)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    @staticmethod
    async def _refuse(
        scope: Scope, send: Send, status: int, type_: str, title: str, detail: str
    ) -> None:
        body = problem_bytes(status, type_, title, detail, scope.get("path", ""))
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
