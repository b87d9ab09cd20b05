"""The web console: server-rendered pages over the same services as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from tenantfusion.web import admin, api_keys, tenant, tenant_admin, views

PREFIX = "/console"


def install(app: FastAPI) -> None:
    """Mount the console under ``/console`` (static files included); ``/`` leads there."""
    app.include_router(views.router, prefix=PREFIX)
    app.include_router(admin.router, prefix=f"{PREFIX}/admin")
    app.include_router(api_keys.router, prefix=PREFIX)  # before tenant's /{kind} routes
    app.include_router(tenant_admin.router, prefix=PREFIX)  # before tenant's /{kind} routes
    app.include_router(tenant.router, prefix=PREFIX)
    app.mount(
        f"{PREFIX}/static",
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="console-static",
    )

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(PREFIX, status_code=307)
