"""ASGI middleware: request ids, structured context, Prometheus request metrics and the
``Server-Timing`` of the request's pool calls."""

from __future__ import annotations

import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantfusion import server_timing
from tenantfusion.metrics import LATENCY, REQUESTS

#: A caller's ``X-Request-ID`` is kept only when it looks like an id; otherwise replaced.
REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
_request: ContextVar[tuple[str | None, str | None]] = ContextVar("request", default=(None, None))


def current_request() -> tuple[str | None, str | None]:
    """The (request id, source address) of the request being served, if any."""
    return _request.get()


def request_id_of(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` when well-formed, else a fresh one."""
    for name, value in scope.get("headers") or []:
        if name == b"x-request-id" and REQUEST_ID.match(value):
            return str(value.decode("ascii"))
    return uuid.uuid4().hex


def source_of(scope: Scope) -> str | None:
    """The peer address of the connection (proxies' headers are not trusted here)."""
    client = scope.get("client")
    return str(client[0])[:64] if client else None


class ObserveMiddleware:
    """Tags every request with an ``X-Request-Id`` and counts it by route (handler name)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = _request.set((request_id, source_of(scope)))
        timing = server_timing.begin()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
                waited = server_timing.header()
                if waited is not None:
                    message["headers"].append((b"server-timing", waited))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            _request.reset(token)
            server_timing.end(timing)
            structlog.contextvars.clear_contextvars()
            route: Any = scope.get("route")
            template = getattr(route, "name", None) or "unmatched"
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], template, str(status["code"])).inc()
