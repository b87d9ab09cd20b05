"""HTTP routes of tenant resources (routers so far)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from tenantfusion.deps import AppSettings, CurrentUser, DbSession, Sessions
from tenantfusion.resources import routers
from tenantfusion.resources.schemas import ResourcePage, RouterCreate, RouterRead

router = APIRouter(tags=["routers"])


@router.post("/routers", response_model=RouterRead, status_code=status.HTTP_201_CREATED)
def create_router(
    data: RouterCreate, principal: CurrentUser, sessions: Sessions, settings: AppSettings
) -> RouterRead:
    return routers.create(sessions=sessions, actor=principal, data=data, settings=settings)


@router.get("/routers", response_model=ResourcePage[RouterRead])
def list_routers(
    principal: CurrentUser,
    db: DbSession,
    settings: AppSettings,
    pool: str | None = None,
    name: str | None = None,
) -> ResourcePage[RouterRead]:
    return routers.list_(db=db, actor=principal, settings=settings, pool=pool, name=name)


@router.get("/routers/{router_id}", response_model=RouterRead)
def show_router(
    router_id: str, principal: CurrentUser, db: DbSession, settings: AppSettings
) -> RouterRead:
    return routers.show(db=db, actor=principal, router_id=router_id, settings=settings)


@router.delete("/routers/{router_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_router(
    router_id: str, principal: CurrentUser, db: DbSession, settings: AppSettings
) -> Response:
    routers.delete(db=db, actor=principal, router_id=router_id, settings=settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
