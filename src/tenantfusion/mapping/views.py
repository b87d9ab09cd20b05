"""HTTP routes of tenant ↔ pool mappings."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from tenantfusion.deps import AppSettings, CurrentUser, DbSession, Sessions
from tenantfusion.jobs.schemas import JobRead
from tenantfusion.mapping import service
from tenantfusion.mapping.flows import mapping_ensure_flow, mapping_rotate_flow
from tenantfusion.mapping.schemas import MappingRead
from tenantfusion.mapping.teardown import deprovision_job
from tenantfusion.platform import service as platform_service
from tenantfusion.pools import service as pool_service
from tenantfusion.schemas import Page

router = APIRouter(tags=["mappings"])


@router.get("/tenants/{tenant_id}/mappings", response_model=Page[MappingRead])
def list_mappings(tenant_id: str, principal: CurrentUser, db: DbSession) -> Page[MappingRead]:
    principal.require_tenant_access(tenant_id)
    platform_service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
    names = {p.id: p.name for p in pool_service.list_(db=db)}
    items = service.list_for_tenant(db=db, tenant_id=tenant_id)
    return Page[MappingRead](items=[MappingRead.of(m, pool_name=names[m.pool_id]) for m in items])


@router.get("/tenants/{tenant_id}/mappings/{pool}", response_model=MappingRead)
def show_mapping(tenant_id: str, pool: str, principal: CurrentUser, db: DbSession) -> MappingRead:
    principal.require_tenant_access(tenant_id)
    mapping, pool_name = service.get_by_pool_ref_or_raise(db=db, tenant_id=tenant_id, pool_ref=pool)
    return MappingRead.of(mapping, pool_name=pool_name)


@router.put(
    "/tenants/{tenant_id}/mappings/{pool}",
    response_model=MappingRead,
    responses={201: {"model": MappingRead}},
)
def ensure_mapping(
    tenant_id: str,
    pool: str,
    principal: CurrentUser,
    sessions: Sessions,
    settings: AppSettings,
    response: Response,
) -> MappingRead:
    principal.require_tenant_access(tenant_id, admin=True)
    mapping, created = mapping_ensure_flow(
        sessions=sessions, actor=principal, tenant_id=tenant_id, pool_ref=pool, settings=settings
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    with sessions() as db:
        return MappingRead.of(mapping, pool_name=pool_service.get_or_raise(db=db, ref=pool).name)


@router.post(
    "/tenants/{tenant_id}/mappings/{pool}/rotate",
    response_model=MappingRead,
    status_code=status.HTTP_200_OK,
)
def rotate_mapping_credential(
    tenant_id: str, pool: str, principal: CurrentUser, sessions: Sessions, settings: AppSettings
) -> MappingRead:
    """Give the tenant's pool identity a new application credential (the old one is
    deleted once the new one works); upgrades a password-only mapping."""
    principal.require_tenant_access(tenant_id, admin=True)
    mapping = mapping_rotate_flow(
        sessions=sessions, actor=principal, tenant_id=tenant_id, pool_ref=pool, settings=settings
    )
    with sessions() as db:
        return MappingRead.of(mapping, pool_name=pool_service.get_or_raise(db=db, ref=pool).name)


@router.delete(
    "/tenants/{tenant_id}/mappings/{pool}",
    response_model=JobRead,
    status_code=status.HTTP_202_ACCEPTED,
)
def deprovision_mapping(
    tenant_id: str, pool: str, principal: CurrentUser, db: DbSession, purge: bool = False
) -> JobRead:
    """Deprovision (a job); 409 objects-left while the tenant has objects there, unless
    ``purge``."""
    principal.require_tenant_access(tenant_id, admin=True)
    found = pool_service.get_or_raise(db=db, ref=pool)
    mapping = service.get_or_raise(db=db, tenant_id=tenant_id, pool_id=found.id)
    return JobRead.model_validate(
        deprovision_job(db=db, actor=principal, mapping=mapping, pool=found, purge=purge)
    )
