"""HTTP routes of the pool registry."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from tenantfusion.deps import AppSettings, CurrentUser, DbSession, Limit, PlatformAdmin
from tenantfusion.jobs.schemas import JobRead
from tenantfusion.mapping.flows import request_reconcile
from tenantfusion.mapping.teardown import pool_delete_flow
from tenantfusion.pools import service
from tenantfusion.pools.schemas import PoolCreate, PoolRead, PoolUpdate, PoolView, pool_view
from tenantfusion.schemas import Page

router = APIRouter(tags=["pools"])


@router.post("/pools", response_model=PoolRead, status_code=status.HTTP_201_CREATED)
def register_pool(
    data: PoolCreate, admin: PlatformAdmin, db: DbSession, settings: AppSettings
) -> PoolRead:
    return PoolRead.model_validate(
        service.register(db=db, actor=admin, data=data, settings=settings)
    )


@router.get("/pools", response_model=Page[PoolRead] | Page[PoolView])
def list_pools(
    principal: CurrentUser, db: DbSession, limit: int = Limit, marker: str | None = None
) -> Page[PoolRead] | Page[PoolView]:
    """Pools by name, keyset-paginated (``marker``: the last name seen). Platform admins get
    every field; tenant users a view without ``auth_url`` and ``status_reason``."""
    pools = service.page(db=db, limit=limit, marker=marker)
    next_marker = pools[-1].name if len(pools) == limit else None
    if principal.is_platform_admin:
        return Page[PoolRead](
            items=[PoolRead.model_validate(p) for p in pools], next_marker=next_marker
        )
    return Page[PoolView](
        items=[PoolView.model_validate(p) for p in pools], next_marker=next_marker
    )


@router.get("/pools/{pool}", response_model=PoolRead | PoolView)
def show_pool(pool: str, principal: CurrentUser, db: DbSession) -> PoolRead | PoolView:
    found = service.get_or_raise(db=db, ref=pool)
    return pool_view(found, full=principal.is_platform_admin)


@router.patch("/pools/{pool}", response_model=PoolRead)
def update_pool(
    pool: str, data: PoolUpdate, admin: PlatformAdmin, db: DbSession, settings: AppSettings
) -> PoolRead:
    found = service.get_or_raise(db=db, ref=pool)
    return PoolRead.model_validate(
        service.update(db=db, actor=admin, pool=found, data=data, settings=settings)
    )


@router.delete("/pools/{pool}", status_code=status.HTTP_204_NO_CONTENT)
def delete_pool(pool: str, admin: PlatformAdmin, db: DbSession) -> Response:
    found = service.get_or_raise(db=db, ref=pool)
    pool_delete_flow(db=db, actor=admin, pool=found)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/pools/{pool}/check", response_model=PoolRead)
def check_pool(pool: str, admin: PlatformAdmin, db: DbSession, settings: AppSettings) -> PoolRead:
    found = service.get_or_raise(db=db, ref=pool)
    return PoolRead.model_validate(service.refresh_health(db=db, pool=found, settings=settings))


@router.post(
    "/pools/{pool}/reconcile", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED
)
def reconcile_pool(pool: str, admin: PlatformAdmin, db: DbSession) -> JobRead:
    found = service.get_or_raise(db=db, ref=pool)
    return JobRead.model_validate(request_reconcile(db=db, actor=admin, pool=found))
