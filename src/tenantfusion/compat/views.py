"""Keystone v3 routes of the facade (``/identity``): thin, errors in OpenStack's shape,
left out of the OpenAPI schema (it documents the platform's own API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import JSONResponse
from starlette.routing import Mount, Route, Router

from tenantfusion.compat import identity, proxy, upload
from tenantfusion.compat.errors import OpenStackRoute, rendered
from tenantfusion.compat.schemas import AuthRequest
from tenantfusion.deps import (
    AppSettings,
    CurrentUser,
    DbSession,
    Sessions,
    get_principal,
    login_slot,
)
from tenantfusion.errors import TenantFusionError
from tenantfusion.idempotency import guard as idempotency
from tenantfusion.observe import source_of
from tenantfusion.platform import auth as auth_service
from tenantfusion.platform import service as platform_service
from tenantfusion.resources.engine import tenant_of

router = APIRouter(route_class=OpenStackRoute, include_in_schema=False)
SubjectToken = Annotated[str, Header(alias="X-Subject-Token")]


def base_url(request: Request) -> str:
    """The facade's own address as the client reached it (catalog and links)."""
    return str(request.base_url).rstrip("/")


@router.get("/identity")
@router.get("/identity/")
def list_versions(request: Request) -> JSONResponse:
    return JSONResponse(
        {"versions": {"values": [identity.version(base_url=base_url(request))]}},
        status_code=status.HTTP_300_MULTIPLE_CHOICES,
    )


@router.get("/identity/v3")
@router.get("/identity/v3/")
def show_version(request: Request) -> JSONResponse:
    return JSONResponse({"version": identity.version(base_url=base_url(request))})


def _token_response(
    request: Request, db: DbSession, issued: identity.Issued, code: int
) -> JSONResponse:
    body = identity.token_body(
        issued=issued, pools=identity.usable_pools(db=db), base_url=base_url(request)
    )
    return JSONResponse(body, status_code=code, headers={"X-Subject-Token": issued.raw})


@router.post("/identity/v3/auth/tokens", dependencies=[Depends(login_slot)])
def create_token(
    data: AuthRequest, request: Request, sessions: Sessions, settings: AppSettings, db: DbSession
) -> JSONResponse:
    issued = identity.issue(
        sessions=sessions, auth=data.auth, source=source_of(request.scope), settings=settings
    )
    return _token_response(request, db, issued, status.HTTP_201_CREATED)


@router.get("/identity/v3/auth/tokens")
def show_token(
    caller: CurrentUser, subject: SubjectToken, request: Request, db: DbSession
) -> JSONResponse:
    issued = identity.validate(db=db, raw_token=subject)
    identity.check_subject(caller=caller, subject=issued)
    return _token_response(request, db, issued, status.HTTP_200_OK)


@router.head("/identity/v3/auth/tokens")
def check_token(caller: CurrentUser, subject: SubjectToken, db: DbSession) -> Response:
    identity.check_subject(caller=caller, subject=identity.validate(db=db, raw_token=subject))
    return Response(status_code=status.HTTP_200_OK, headers={"X-Subject-Token": subject})


@router.delete("/identity/v3/auth/tokens")
def revoke_token(caller: CurrentUser, subject: SubjectToken, db: DbSession) -> Response:
    identity.check_subject(caller=caller, subject=identity.validate(db=db, raw_token=subject))
    auth_service.revoke_token(db=db, raw_token=subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/identity/v3/auth/projects")
def list_projects(caller: CurrentUser, request: Request, db: DbSession) -> JSONResponse:
    tenant = platform_service.get_tenant_or_raise(db=db, tenant_id=tenant_of(caller))
    me = f"{base_url(request)}{identity.IDENTITY_PATH}/auth/projects"
    return JSONResponse(
        {
            "projects": [identity.project(tenant, base_url=base_url(request))],
            "links": {"self": me, "previous": None, "next": None},
        }
    )


@router.get("/identity/v3/auth/catalog")
def show_catalog(caller: CurrentUser, request: Request, db: DbSession) -> JSONResponse:
    tenant_of(caller)
    me = f"{base_url(request)}{identity.IDENTITY_PATH}/auth/catalog"
    return JSONResponse(
        {
            "catalog": identity.catalog(
                pools=identity.usable_pools(db=db), base_url=base_url(request)
            ),
            "links": {"self": me, "previous": None, "next": None},
        }
    )


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def _proxy_router(service: str) -> Router:
    """``/<service>/<region>[/<path>]``, routed relative to its mount at ``/<service>``
    (``mounts``). Plain Starlette routes: the caller and the Idempotency-Key are taken by
    the same functions FastAPI's dependencies call (``get_principal``,
    ``idempotency.guard``), without FastAPI's dependency solving, which cost a pass-through
    more CPU than everything else it does before calling the pool."""

    async def forward(request: Request) -> Response:
        try:
            caller = await get_principal(request, request.headers.get("x-auth-token"))
            # the v1 API's Idempotency-Key applies to the facade's creates and actions too,
            # not to image data (streamed, never held to fingerprint; Glance refuses a
            # second upload to an image with 409 anyway)
            if not upload.streams(request.scope):
                await idempotency.guard(request, request.headers.get("idempotency-key"))
            return await proxy.forward(
                request=request,
                caller=caller,
                service=service,
                region=request.path_params["region"],
                path=request.path_params.get("path", ""),
            )
        except TenantFusionError as e:
            return rendered(e)

    async def discover(request: Request) -> Response:
        try:
            region = request.path_params["region"]
            return await proxy.discover(request=request, service=service, region=region)
        except TenantFusionError as e:
            return rendered(e)

    return Router(
        routes=[
            # a service root (the version document) before the proxy, as OpenStack serves it
            Route("/{region}", discover, methods=["GET"]),
            Route("/{region}/", discover, methods=["GET"]),
            Route("/{region}", forward, methods=METHODS),
            Route("/{region}/{path:path}", forward, methods=METHODS),
        ]
    )


def mounts() -> list[Mount]:
    """The pass-through endpoints, one mount per service, to be tried before every other
    route: a mount is matched by one prefix test, where the app's router would first try
    each of its ~200 routes in turn (about 0.2 ms per request, done twice, measured)."""
    return [Mount(f"/{service}", app=_proxy_router(service)) for service in identity.SERVICES]
