"""HTTP routes of tenant resources: the same five routes per kind, made by one function.

(No ``from __future__ import annotations`` here: FastAPI reads the closures' annotations,
which must be the real classes.)
"""

from types import ModuleType
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from tenantfusion.deps import AppSettings, CurrentUser, DbSession, Sessions
from tenantfusion.jobs.schemas import JobRead
from tenantfusion.resources import (
    catalog,
    floating_ips,
    networks,
    routers,
    servers,
    subnets,
    volumes,
)
from tenantfusion.resources.list_route import ListRoute
from tenantfusion.resources.schemas import (
    FlavorRead,
    FloatingIPAction,
    FloatingIPCreate,
    FloatingIPRead,
    ImageRead,
    ListQuery,
    NetworkCreate,
    NetworkRead,
    ResourcePage,
    RouterAction,
    RouterCreate,
    RouterRead,
    ServerAction,
    ServerCreate,
    ServerRead,
    SubnetCreate,
    SubnetRead,
    VolumeAction,
    VolumeCreate,
    VolumeRead,
)

router = APIRouter()


def mount(
    *,
    path: str,
    module: ModuleType,
    create_model: type[BaseModel],
    read_model: type[BaseModel],
    action_model: type[BaseModel] | None = None,
) -> None:
    """POST/GET ``/{path}``, GET/DELETE ``/{path}/{id}`` and, with ``action_model``,
    POST ``/{path}/{id}/action`` over ``module``'s service functions."""
    tags: list[str | Any] = [path]
    async_delete = module is servers

    @router.post(
        f"/{path}", response_model=read_model, status_code=status.HTTP_201_CREATED, tags=tags
    )
    def create(
        data: create_model,  # type: ignore[valid-type]
        principal: CurrentUser,
        sessions: Sessions,
        settings: AppSettings,
    ) -> Any:
        return module.create(sessions=sessions, actor=principal, data=data, settings=settings)

    async def list_(
        query: Annotated[ListQuery, Query()],
        principal: CurrentUser,
        sessions: Sessions,
        settings: AppSettings,
    ) -> Any:
        # async: the pools are awaited on the loop (no thread held); the page, built from
        # validated read models, is serialized once (documented by response_model)
        page = await module.list_async(
            sessions=sessions, actor=principal, settings=settings, query=query
        )
        return Response(page.model_dump_json(), media_type="application/json")

    router.add_api_route(  # called by ListRoute, which gives it its arguments itself
        f"/{path}",
        list_,
        methods=["GET"],
        response_model=ResourcePage[read_model],  # type: ignore[valid-type]
        tags=tags,
        route_class_override=ListRoute,
    )

    @router.get(f"/{path}/{{record_id}}", response_model=read_model, tags=tags)
    def show(record_id: str, principal: CurrentUser, db: DbSession, settings: AppSettings) -> Any:
        return module.show(db=db, actor=principal, settings=settings, record_id=record_id)

    @router.delete(
        f"/{path}/{{record_id}}",
        status_code=status.HTTP_202_ACCEPTED if async_delete else status.HTTP_204_NO_CONTENT,
        response_model=JobRead if async_delete else None,
        tags=tags,
    )
    def delete(
        record_id: str, principal: CurrentUser, sessions: Sessions, settings: AppSettings
    ) -> Any:
        job = module.delete(
            sessions=sessions, actor=principal, settings=settings, record_id=record_id
        )
        if job is None:
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        return JobRead.model_validate(job)

    if action_model is None:
        return

    @router.post(f"/{path}/{{record_id}}/action", response_model=read_model, tags=tags)
    def action(
        record_id: str,
        data: action_model,  # type: ignore[valid-type]
        principal: CurrentUser,
        db: DbSession,
        settings: AppSettings,
    ) -> Any:
        return module.action(
            db=db, actor=principal, settings=settings, record_id=record_id, data=data
        )


mount(
    path="servers",
    module=servers,
    create_model=ServerCreate,
    read_model=ServerRead,
    action_model=ServerAction,
)
mount(path="networks", module=networks, create_model=NetworkCreate, read_model=NetworkRead)
mount(path="subnets", module=subnets, create_model=SubnetCreate, read_model=SubnetRead)
mount(
    path="routers",
    module=routers,
    create_model=RouterCreate,
    read_model=RouterRead,
    action_model=RouterAction,
)
mount(
    path="floating-ips",
    module=floating_ips,
    create_model=FloatingIPCreate,
    read_model=FloatingIPRead,
    action_model=FloatingIPAction,
)

mount(
    path="volumes",
    module=volumes,
    create_model=VolumeCreate,
    read_model=VolumeRead,
    action_model=VolumeAction,
)


@router.get("/flavors", response_model=ResourcePage[FlavorRead], tags=["catalog"])
def list_flavors(
    principal: CurrentUser, db: DbSession, settings: AppSettings, pool: str | None = None
) -> Any:
    return catalog.flavors(db=db, actor=principal, settings=settings, pool=pool)


@router.get("/images", response_model=ResourcePage[ImageRead], tags=["catalog"])
def list_images(
    principal: CurrentUser, db: DbSession, settings: AppSettings, pool: str | None = None
) -> Any:
    return catalog.images(db=db, actor=principal, settings=settings, pool=pool)
