"""Platform admin pages: tenants, pools with health, reconcile jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Form, Request, Response

from tenantfusion.deps import AppSettings, Sessions
from tenantfusion.errors import TenantFusionError
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.schemas import JobRead
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.flows import request_reconcile
from tenantfusion.mapping.teardown import tenant_delete_flow
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.principal import Principal
from tenantfusion.platform.schemas import TenantCreate, TenantRead
from tenantfusion.pools import breaker, history
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.schemas import PoolRead
from tenantfusion.quotas import service as quota_service
from tenantfusion.quotas.schemas import QuotaLimits
from tenantfusion.resources import service as record_service
from tenantfusion.web import charts
from tenantfusion.web.auth import ConsoleAdmin
from tenantfusion.web.live import is_moving
from tenantfusion.web.pages import quota_scopes
from tenantfusion.web.render import (
    Flash,
    kept,
    model_input,
    page,
    parse,
    read_form,
    submit,
    submit_in_thread,
)
from tenantfusion.web.routing import console_router

router = console_router()
HOME = "/console/admin"
TENANT_PAGE = 200
RECENT_JOBS = 20
BREAKER_STATES = {
    breaker.CLOSED: "closed (calls go through)",
    breaker.HALF_OPEN: "half-open (one trial call)",
    breaker.OPEN: "open (calls fail fast)",
}


def _admin_page(
    request: Request,
    *,
    user: Principal,
    sessions: Sessions,
    form: dict[str, str] | None = None,
    flash: Flash | None = None,
    status: int = 200,
) -> Response:
    with sessions() as db:
        tenants = [
            TenantRead.model_validate(t)
            for t in platform_service.list_tenants(db=db, limit=TENANT_PAGE, marker=None)
        ]
        pools = [PoolRead.model_validate(p) for p in pool_service.list_(db=db)]
        jobs = [
            JobRead.model_validate(j)
            for j in job_service.list_(db=db, actor=user, limit=RECENT_JOBS, state=None)
        ]
    return page(
        request,
        "admin/index.html",
        user=user,
        flash=flash,
        status=status,
        form=kept(form),
        tenants=tenants,
        pools=pools,
        jobs=jobs,
        live=is_moving(jobs=jobs),
    )


def _retry(
    request: Request, user: Principal, sessions: Sessions, form: dict[str, str] | None = None
) -> Callable[[Flash, int], Response]:
    def render(flash: Flash, status: int) -> Response:
        return _admin_page(
            request, user=user, sessions=sessions, form=form, flash=flash, status=status
        )

    return render


@router.get("")
def show_admin(request: Request, user: ConsoleAdmin, sessions: Sessions) -> Response:
    return _admin_page(request, user=user, sessions=sessions)


@router.get("/pools/{pool}")
def show_pool(
    request: Request, pool: str, user: ConsoleAdmin, sessions: Sessions, settings: AppSettings
) -> Response:
    """One pool for its operator: health, what is placed there, capacity vs used as bars."""
    with sessions() as db:
        found = pool_service.get_or_raise(db=db, ref=pool)
        view = PoolRead.model_validate(found)
        tenants = mapping_service.count(db=db, pool_id=found.id)
        records = record_service.count_in_pool(db=db, pool_id=found.id)
        samples = history.recent(db=db, pool_id=found.id)
        db.expunge(found)
    problem = ""
    try:  # the page shows the pool even when its Placement does not answer
        capacity = pool_service.capacity(pool=found, settings=settings)
    except TenantFusionError as e:
        capacity, problem = None, f"{e.title}: {e.detail}"
    return page(
        request,
        "admin/pool.html",
        user=user,
        pool=view,
        tenants=tenants,
        records=records,
        breaker=BREAKER_STATES[breaker.state(view.name)],
        bars=charts.capacity_bars(capacity) if capacity else [],
        history=charts.health_series(samples) if samples else [],
        problem=problem,
    )


@router.post("/tenants")
def create_tenant(
    request: Request,
    user: ConsoleAdmin,
    sessions: Sessions,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    admin_username: Annotated[str, Form()] = "",
    admin_password: Annotated[str, Form()] = "",
) -> Response:
    """A tenant with its first tenant_admin."""

    def action() -> tuple[str, str]:
        data = parse(
            TenantCreate,
            {
                "name": name.strip(),
                "description": description.strip(),
                "admin": {"username": admin_username.strip(), "password": admin_password},
            },
        )
        with sessions.begin() as db:
            platform_service.create_tenant(db=db, actor=user, data=data)
        return HOME, f"Tenant {data.name} created with tenant admin {data.admin.username}"

    kept_input = {"name": name, "description": description, "admin_username": admin_username}
    return submit(request, action=action, retry=_retry(request, user, sessions, kept_input))


@router.post("/tenants/{tenant_id}/delete")
def delete_tenant(
    request: Request, tenant_id: str, user: ConsoleAdmin, sessions: Sessions
) -> Response:
    """Delete a tenant that has no pool mappings or objects left."""

    def action() -> tuple[str, str]:
        with sessions.begin() as db:
            tenant = platform_service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
            name = tenant.name
            tenant_delete_flow(db=db, actor=user, tenant=tenant)
        return HOME, f"Tenant {name} deleted"

    return submit(request, action=action, retry=_retry(request, user, sessions))


@router.post("/pools/{pool}/check")
def check_pool(
    request: Request, pool: str, user: ConsoleAdmin, sessions: Sessions, settings: AppSettings
) -> Response:
    """Ask the pool how it is now (status, services, features)."""

    def action() -> tuple[str, str]:
        with sessions() as db:  # not begin(): the check ends the transaction before asking
            found = pool_service.get_or_raise(db=db, ref=pool)
            checked = pool_service.refresh_health(db=db, pool=found, settings=settings)
            db.commit()
            result = f"Pool {checked.name}: {checked.status.value}"
        return HOME, result

    return submit(request, action=action, retry=_retry(request, user, sessions))


@router.post("/pools/{pool}/reconcile")
def reconcile_pool(request: Request, pool: str, user: ConsoleAdmin, sessions: Sessions) -> Response:
    """Start a reconcile job and follow it on its page."""

    def action() -> tuple[str, str]:
        with sessions.begin() as db:
            found = pool_service.get_or_raise(db=db, ref=pool)
            job = request_reconcile(db=db, actor=user, pool=found)
            url, name = f"/console/jobs/{job.id}", found.name
        return url, f"Reconcile of pool {name} started"

    return submit(request, action=action, retry=_retry(request, user, sessions))


def _quota_page(
    request: Request,
    tenant_id: str,
    *,
    user: Principal,
    sessions: Sessions,
    form: dict[str, str] | None = None,
    flash: Flash | None = None,
    status: int = 200,
) -> Response:
    with sessions() as db:
        tenant = platform_service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
        found = quota_service.read(db=db, tenant_id=tenant.id)
        pools = [PoolRead.model_validate(p) for p in pool_service.list_(db=db)]
        name = tenant.name
    return page(
        request,
        "tenant/quotas.html",
        user=user,
        flash=flash,
        status=status,
        form=kept(form),
        editable=True,
        tenant_id=tenant_id,
        tenant_name=name,
        pools=pools,
        scopes=quota_scopes(found),
        labels=charts.QUOTA_LABELS,
    )


@router.get("/tenants/{tenant_id}/quotas")
def show_quotas(
    request: Request, tenant_id: str, user: ConsoleAdmin, sessions: Sessions
) -> Response:
    """A tenant's limits, usage and reservations, and the form that sets its limits."""
    return _quota_page(request, tenant_id, user=user, sessions=sessions)


@router.post("/tenants/{tenant_id}/quotas")
async def set_quotas(
    request: Request, tenant_id: str, user: ConsoleAdmin, sessions: Sessions, settings: AppSettings
) -> Response:
    """Replace the limits of one scope (platform-wide or a pool): the API's PUT body, sent
    to the same service function, which pushes them down to the tenant's projects."""
    form = await read_form(request)
    pool = form.get("pool") or None

    def action() -> tuple[str, str]:
        data = parse(QuotaLimits, model_input({k: v for k, v in form.items() if k != "pool"}))
        found = quota_service.update(
            sessions=sessions,
            actor=user,
            tenant_id=tenant_id,
            pool_ref=pool,
            data=data,
            settings=settings,
        )
        pushed = ", ".join(f"{k}: {v}" for k, v in sorted((found.pushed or {}).items()))
        scope = f"pool {pool}" if pool else "all pools"
        return f"/console/admin/tenants/{tenant_id}/quotas", (
            f"Limits saved for {scope}" + (f" (pushed to {pushed})" if pushed else "")
        )

    def again(flash: Flash, status: int) -> Response:
        return _quota_page(
            request, tenant_id, user=user, sessions=sessions, form=form, flash=flash, status=status
        )

    return await submit_in_thread(request, action=action, retry=again)
