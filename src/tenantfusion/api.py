"""The FastAPI application: assembly only (routers, middleware, problem handlers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tenantfusion import problems, web
from tenantfusion.audit.views import router as audit_router
from tenantfusion.config import Settings, get_settings
from tenantfusion.db import session_factory
from tenantfusion.health import HealthProbe
from tenantfusion.jobs.views import router as jobs_router
from tenantfusion.jobs.worker import Worker
from tenantfusion.mapping import jobs as _mapping_jobs  # noqa: F401  (registers job handlers)
from tenantfusion.mapping.views import router as mapping_router
from tenantfusion.observe import ObserveMiddleware
from tenantfusion.platform.views import router as platform_router
from tenantfusion.pools import breaker
from tenantfusion.pools.views import router as pools_router
from tenantfusion.resources import jobs as _resource_jobs  # noqa: F401
from tenantfusion.resources.views import router as resources_router

API_PREFIX = "/v1"


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> FastAPI:
    """Build the application for ``settings`` (migrations are the caller's job)."""
    settings = settings or get_settings()
    sessions = session_factory(settings)
    start_worker = settings.run_worker if run_worker is None else run_worker
    breaker.configure(slow_seconds=settings.pool_slow_seconds or settings.pool_timeout_seconds)
    health = HealthProbe(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = Worker(sessions=sessions, settings=settings) if start_worker else None
        if worker:
            worker.start()
        yield
        if worker:
            worker.stop()
            worker.join(timeout=10)
        health.close()

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
        pools_router,
        mapping_router,
        jobs_router,
        audit_router,
        resources_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    web.install(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> JSONResponse:  # async: never waits for a request thread
        failure = await health.check()
        if failure is not None:
            return JSONResponse({"status": "fail", "database": failure}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/metrics", tags=["ops"])
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
