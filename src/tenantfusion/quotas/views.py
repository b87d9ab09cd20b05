"""HTTP routes of platform quotas: platform admins set them, the tenant reads them."""

from __future__ import annotations

from fastapi import APIRouter

from tenantfusion.deps import AppSettings, CurrentUser, DbSession, Sessions
from tenantfusion.quotas import service
from tenantfusion.quotas.schemas import QuotaLimits, QuotaRead

router = APIRouter(tags=["quotas"])


@router.get("/tenants/{tenant_id}/quotas", response_model=QuotaRead)
def show_quotas(
    tenant_id: str,
    principal: CurrentUser,
    db: DbSession,
    settings: AppSettings,
    reconcile: bool = False,
) -> QuotaRead:
    """Limit, usage and reservations per resource, platform-wide and per pool;
    ``reconcile=true`` also compares the records with what the pools hold."""
    principal.require_tenant_access(tenant_id)
    return service.show(db=db, tenant_id=tenant_id, settings=settings, reconcile=reconcile)


@router.put("/tenants/{tenant_id}/quotas", response_model=QuotaRead)
def set_quotas(
    tenant_id: str,
    data: QuotaLimits,
    principal: CurrentUser,
    sessions: Sessions,
    settings: AppSettings,
) -> QuotaRead:
    """Replace the tenant's platform-wide limits (omitted: none) and push them down."""
    principal.require_platform_admin()
    return service.update(
        sessions=sessions,
        actor=principal,
        tenant_id=tenant_id,
        pool_ref=None,
        data=data,
        settings=settings,
    )


@router.put("/tenants/{tenant_id}/quotas/{pool}", response_model=QuotaRead)
def set_pool_quotas(
    tenant_id: str,
    pool: str,
    data: QuotaLimits,
    principal: CurrentUser,
    sessions: Sessions,
    settings: AppSettings,
) -> QuotaRead:
    """Replace the tenant's limits in one pool (omitted: none) and push them down."""
    principal.require_platform_admin()
    return service.update(
        sessions=sessions,
        actor=principal,
        tenant_id=tenant_id,
        pool_ref=pool,
        data=data,
        settings=settings,
    )
