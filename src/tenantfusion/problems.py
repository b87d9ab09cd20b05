"""One place that renders every error as RFC 9457 application/problem+json."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tenantfusion.errors import TenantFusionError

log = structlog.get_logger(__name__)
MEDIA_TYPE = "application/problem+json"


def problem(status: int, body: dict[str, Any]) -> JSONResponse:
    headers = {"WWW-Authenticate": "X-Auth-Token"} if status == 401 else {}
    if "retry_after" in body:
        headers["Retry-After"] = str(body["retry_after"])
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""

    @app.exception_handler(TenantFusionError)
    async def domain_error(request: Request, exc: TenantFusionError) -> JSONResponse:
        if exc.status >= 500:
            log.warning("request.failed", type=exc.type, detail=exc.detail)
        return problem(exc.status, exc.to_problem(instance=request.url.path))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(
            422,
            {
                "type": "invalid-input",
                "title": "Invalid input",
                "status": 422,
                "detail": detail,
                "instance": request.url.path,
                "errors": errors,
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return problem(
            exc.status_code,
            {
                "type": slug,
                "title": str(exc.detail),
                "status": exc.status_code,
                "detail": str(exc.detail),
                "instance": request.url.path,
            },
        )

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request.crashed", path=request.url.path)
        return problem(
            500,
            {
                "type": "internal-error",
                "title": "Internal error",
                "status": 500,
                "detail": "an unexpected error occurred; it was logged",
                "instance": request.url.path,
            },
        )


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `type` is a stable slug",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}


def document(app: FastAPI) -> None:
    """Make the OpenAPI document say what errors really look like: every operation answers
    ``application/problem+json`` for 422 and for any other error (``default``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        ref = {"$ref": "#/components/schemas/Problem"}
        problem_response = {"content": {MEDIA_TYPE: {"schema": ref}}}
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses["422"] = {"description": "Invalid input", **problem_response}
                responses["default"] = {"description": "Error", **problem_response}
        for unused in ("HTTPValidationError", "ValidationError"):
            spec["components"]["schemas"].pop(unused, None)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
