"""The FastAPI application: assembly only (routers, middleware, problem handlers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from tenantfusion import problems, web
from tenantfusion.apikeys.views import router as api_keys_router
from tenantfusion.audit.views import router as audit_router
from tenantfusion.config import Settings, get_settings
from tenantfusion.db import session_factory
from tenantfusion.jobs.views import router as jobs_router
from tenantfusion.jobs.worker import Worker
from tenantfusion.mapping import jobs as _mapping_jobs  # noqa: F401  (registers job handlers)
from tenantfusion.mapping.views import router as mapping_router
from tenantfusion.observe import ObserveMiddleware
from tenantfusion.platform.views import router as platform_router
from tenantfusion.pools.views import router as pools_router
from tenantfusion.resources import jobs as _resource_jobs  # noqa: F401
from tenantfusion.resources.views import router as resources_router

API_PREFIX = "/v1"


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> FastAPI:
    """Build the application for ``settings`` (migrations are the caller's job)."""
    settings = settings or get_settings()
    sessions = session_factory(settings)
    start_worker = settings.run_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = Worker(sessions=sessions, settings=settings) if start_worker else None
        if worker:
            worker.start()
        yield
        if worker:
            worker.stop()
            worker.join(timeout=10)

    app = FastAPI(
        title="tenantfusion",
        version="1.0",
        lifespan=lifespan,
        description="One tenant-facing API over several OpenStack resource pools.",
    )
    app.state.settings = settings
    app.state.sessions = sessions
    problems.install(app)

    app.add_middleware(ObserveMiddleware)

    for router in (
        platform_router,
        api_keys_router,
        pools_router,
        mapping_router,
        jobs_router,
        audit_router,
        resources_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    web.install(app)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> JSONResponse:
        try:
            with sessions() as db:
                db.execute(text("SELECT 1"))
        except Exception as e:  # report, don't crash the probe
            return JSONResponse({"status": "fail", "database": type(e).__name__}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/metrics", tags=["ops"])
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
