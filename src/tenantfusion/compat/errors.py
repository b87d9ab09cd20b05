"""OpenStack's JSON error shape for every facade route.

OpenStack clients read ``{"<kind>": {"code", "title", "message"}}`` (keystoneauth and
openstacksdk take the first key's ``message``), not RFC 9457: the facade's routes use
``OpenStackRoute``, which renders the platform's errors that way. A pool's own answers
pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from tenantfusion.errors import (
    PoolTimeout,
    PoolUnavailable,
    PoolUnreachable,
    QuotaExceeded,
    TenantFusionError,
)

log = structlog.get_logger(__name__)

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def status_of(exc: TenantFusionError) -> int:
    """The status an OpenStack client expects for a platform error: a pool that does not
    answer is 503 (its circuit breaker fails fast), quota is Nova's 403, bad input 400."""
    if isinstance(exc, PoolTimeout):
        return 504
    if isinstance(exc, PoolUnreachable | PoolUnavailable):
        return 503
    if isinstance(exc, QuotaExceeded):
        return 403
    return 400 if exc.status == 422 else exc.status


def error(status: int, message: str) -> JSONResponse:
    """An OpenStack error body (Keystone's ``error`` key; Nova and Neutron clients read it
    too)."""
    headers = {"WWW-Authenticate": 'Keystone uri="/identity/v3"'} if status == 401 else {}
    title = TITLES.get(status, "Error")
    return JSONResponse(
        {"error": {"code": status, "title": title, "message": message}},
        status_code=status,
        headers=headers,
    )


def rendered(exc: TenantFusionError) -> JSONResponse:
    """A platform error as the OpenStack error its client expects (``status_of``)."""
    status = status_of(exc)
    if status >= 500:
        log.warning("compat.failed", type=exc.type, detail=exc.detail)
    return error(status, exc.detail)


class OpenStackRoute(APIRoute):
    """A route whose errors (its dependencies' too) come out in OpenStack's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except TenantFusionError as e:
                return rendered(e)
            except RequestValidationError as e:
                fields = "; ".join(
                    ".".join(str(p) for p in err.get("loc", ()) if p != "body") + ": " + err["msg"]
                    for err in e.errors()
                )
                return error(400, f"invalid request: {fields}")

        return handle
