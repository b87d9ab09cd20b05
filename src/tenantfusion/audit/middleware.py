"""Audits every mutating call (POST/PUT/PATCH/DELETE under /v1, /console and the facade), allowed,
denied or failed: actor, tenant, action, target, result, error type, request id, source.

Views may add to the entry through ``request.state``: ``audit_detail`` (a dict, e.g. the
username of a login attempt, never its password).
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantfusion.audit import service
from tenantfusion.observe import source_of

log = structlog.get_logger(__name__)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
#: ``/v1``, the console and the OpenStack facade (its Keystone and its pass-through).
AUDITED_PREFIXES = (
    "/v1/",
    "/console",
    "/identity/",
    "/compute/",
    "/network/",
    "/image/",
    "/volume/",
)
DENIED = {401, 403, 404, 429}
_ERROR_BODY_MAX = 8192


def result_of(status: int) -> str:
    """``ok``, ``denied`` (refused as unauthenticated, forbidden, hidden or throttled) or
    ``failed``."""
    if status < 400:
        return "ok"
    return "denied" if status in DENIED else "failed"


def _error_type(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    return str(kind)[:64] if kind else None


class AuditMiddleware:
    """Writes one audit entry per mutating request, after the handler finished."""

    def __init__(self, app: ASGIApp, *, sessions: sessionmaker[Session]) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in MUTATING
            or not path.startswith(AUDITED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        seen: dict[str, Any] = {"status": 500, "body": b""}

        async def send_seen(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body" and seen["status"] >= 400:
                seen["body"] = (seen["body"] + message.get("body", b""))[:_ERROR_BODY_MAX]
            await send(message)

        try:
            await self.app(scope, receive, send_seen)
        finally:
            await run_in_threadpool(self._write, scope, seen["status"], seen["body"])

    def _write(self, scope: Scope, status: int, body: bytes) -> None:
        state: dict[str, Any] = scope.get("state") or {}
        principal = state.get("principal")
        params: dict[str, Any] = scope.get("path_params") or {}
        route: Any = scope.get("route")
        parts = [p for p in scope.get("path", "").split("/") if p]
        kind = parts[1] if len(parts) > 1 and parts[0] == "v1" else (parts[0] if parts else "")
        target = next((str(v)[:64] for k, v in params.items() if k != "tenant_id"), None)
        tenant_id = params.get("tenant_id") or (principal.tenant_id if principal else None)
        detail = {"method": scope["method"], "path": scope.get("path", ""), "status": status}
        detail.update(state.get("audit_detail") or {})
        try:
            with self.sessions.begin() as db:
                service.record(
                    db=db,
                    actor=principal,
                    action=f"api.{getattr(route, 'name', None) or 'unmatched'}",
                    target_kind=kind[:32],
                    target_id=target or (str(tenant_id)[:64] if tenant_id else None),
                    tenant_id=str(tenant_id)[:36] if tenant_id else None,
                    detail=detail,
                    result=result_of(status),
                    error_type=_error_type(body) if status >= 400 else None,
                    request_id=state.get("request_id"),
                    source=source_of(scope),
                )
        except Exception:  # the response is gone already; never crash after it
            log.exception("audit.write_failed", path=scope.get("path"))
