"""The console's route class: login redirects, error pages and security headers in one place."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute

from tenantfusion.errors import TenantFusionError
from tenantfusion.web.auth import CsrfRejected, LoginRequired, end_session, verify_csrf
from tenantfusion.web.render import Flash, page, redirect

LOGIN_URL = "/console/login"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
CSRF_FLASH = Flash(
    "error",
    "Request rejected",
    "The form did not carry this session's security token (it may be stale). "
    "Reload the page and submit again.",
)


def error_page(request: Request, flash: Flash, status: int) -> Response:
    """A page with only the error (for errors outside a form's own page)."""
    user = getattr(request.state, "principal", None)
    return page(request, "error.html", user=user, flash=flash, status=status)


class ConsoleRoute(APIRoute):
    """Turns a missing session into the login page and domain errors into an error page.

    Route names start with ``console.`` so metrics tell pages from the API's routes.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.name = f"console.{self.name}"

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                response = redirect(request, LOGIN_URL)
                end_session(response, request)
            except CsrfRejected:
                response = error_page(request, CSRF_FLASH, 403)
            except TenantFusionError as e:
                response = error_page(request, Flash.of(e), e.status)
            response.headers.update(SECURITY_HEADERS)
            return response

        return guarded


def console_router() -> APIRouter:
    """A router of console pages: every POST is CSRF-checked, none is in the OpenAPI."""
    return APIRouter(
        route_class=ConsoleRoute,
        include_in_schema=False,
        dependencies=[Depends(verify_csrf)],
    )
