"""The FastAPI application: assembly only (routers, middleware, problem handlers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tenantfusion import coherence, problems, web
from tenantfusion.apikeys.lockout import Lockout
from tenantfusion.apikeys.nonces import NonceLedger
from tenantfusion.apikeys.views import router as api_keys_router
from tenantfusion.audit.middleware import AuditMiddleware
from tenantfusion.audit.views import router as audit_router
from tenantfusion.compat import proxy as compat_proxy
from tenantfusion.compat import upload as compat_upload
from tenantfusion.compat.views import mounts as compat_mounts
from tenantfusion.compat.views import router as compat_router
from tenantfusion.config import Settings, get_settings
from tenantfusion.crypto import require_keys
from tenantfusion.db import engine_for, session_factory
from tenantfusion.deps import get_platform_admin
from tenantfusion.guard import GuardMiddleware
from tenantfusion.health import HealthProbe
from tenantfusion.idempotency import guard as idempotency
from tenantfusion.jobs.views import router as jobs_router
from tenantfusion.jobs.worker import Worker
from tenantfusion.mapping import jobs as _mapping_jobs  # noqa: F401  (registers job handlers)
from tenantfusion.mapping.views import router as mapping_router
from tenantfusion.observe import ObserveMiddleware
from tenantfusion.platform.throttle import LoginGate
from tenantfusion.platform.views import router as platform_router
from tenantfusion.pools import breaker
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.views import router as pools_router
from tenantfusion.quotas.views import router as quotas_router
from tenantfusion.reconciler import jobs as _reconciler_jobs  # noqa: F401
from tenantfusion.reconciler.loop import Reconciler
from tenantfusion.resources import deletion as _deletion  # noqa: F401  (its job handler)
from tenantfusion.resources import fanout
from tenantfusion.resources.views import router as resources_router

API_PREFIX = "/v1"


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> FastAPI:
    """Build the application for ``settings`` (migrations are the caller's job)."""
    settings = settings or get_settings()
    sessions = session_factory(settings)
    start_worker = settings.run_worker if run_worker is None else run_worker
    breaker.configure(slow_seconds=settings.pool_slow_seconds or settings.pool_timeout_seconds)
    fanout.configure(threads=settings.pool_call_threads)
    health = HealthProbe(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        require_keys(settings)  # production refuses to serve without a working key
        # every serving process watches the cache epoch; the reconciler only queues jobs:
        # it runs where a worker runs them
        threads: list[Worker | Reconciler | coherence.Watcher] = [
            coherence.Watcher(sessions=sessions, url=settings.resolved_database_url)
        ]
        if start_worker:
            threads.append(Worker(sessions=sessions, settings=settings))
            if settings.run_reconciler:
                threads.append(Reconciler(sessions=sessions, settings=settings))
        for thread in threads:
            thread.start()
        yield
        for thread in threads:
            thread.stop()
            thread.join(timeout=10)
        health.close()
        nonce_ledger.close()
        await compat_proxy.close(app)

    app = FastAPI(
        title="tenantfusion",
        version="1.0",
        lifespan=lifespan,
        description="One tenant-facing API over several OpenStack resource pools.",
        # metrics are Prometheus' (/metrics); FastAPI's OpenTelemetry hooks would only
        # look for a provider on every request
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.login_gate = LoginGate(settings.login_concurrency)
    nonce_ledger = NonceLedger(engine_for(settings.resolved_database_url))
    app.state.nonce_ledger = nonce_ledger
    app.state.signature_lockout = Lockout(sessions=sessions, settings=settings)
    problems.install(app)
    idempotency.install(app)
    problems.document(app)

    # outermost last: request id -> audit of the outcome -> body limits and headers -> app
    app.add_middleware(
        GuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_json_depth=settings.max_json_depth,
        streamed=compat_upload.streams,  # image data: bounded by max_image_bytes
    )
    app.add_middleware(AuditMiddleware, sessions=sessions)
    app.add_middleware(ObserveMiddleware)

    # FastAPI matches a path against the included routers in turn, each route of each:
    # the tenants' resources (the most called) first, then the rest (no path of one
    # router matches another's)
    for router in (
        resources_router,
        platform_router,
        api_keys_router,
        pools_router,
        mapping_router,
        jobs_router,
        audit_router,
        quotas_router,
    ):
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(idempotency.guard)])
    web.install(app)
    compat_proxy.install(app, settings)
    app.include_router(compat_router)  # OpenStack facade: Keystone v3
    app.router.routes[:0] = compat_mounts()  # and its pass-through, matched first

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> JSONResponse:  # async: never waits for a request thread
        failure = await health.check()
        if failure is not None:
            return JSONResponse({"status": "fail", "database": failure}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get(
        "/metrics",
        tags=["ops"],
        dependencies=[Depends(get_platform_admin)],
        response_class=PlainTextResponse,
    )
    def metrics() -> Response:
        try:
            with sessions() as db:
                pool_service.export_status(db=db)  # what the sweep recorded, on every replica
        except Exception:  # noqa: S110  the database is down: /healthz says so, metrics still answer
            pass
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
