"""Tenant admin pages: the tenant's users, and its pools (onboard, leave with a confirmation).

The same service functions as ``platform/views.py`` and ``mapping/views.py``; the same
role checks (``require_tenant_access(..., admin=True)``).
"""

from __future__ import annotations

from fastapi import Request, Response

from tenantfusion.deps import AppSettings, Sessions
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.flows import mapping_ensure_flow
from tenantfusion.mapping.teardown import deprovision_job
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.principal import Principal
from tenantfusion.platform.schemas import UserCreate, UserUpdate
from tenantfusion.pools import service as pool_service
from tenantfusion.resources import service as record_service
from tenantfusion.resources.engine import tenant_of
from tenantfusion.web.auth import ConsoleUser
from tenantfusion.web.pages import retry
from tenantfusion.web.render import Flash, model_input, page, parse, read_form, submit_in_thread
from tenantfusion.web.routing import console_router

router = console_router()
USERS = "/console/users"
OVERVIEW = "/console/overview"


def _tenant_admin(user: Principal) -> str:
    """The caller's tenant id, if the caller is its tenant admin (Forbidden otherwise)."""
    tenant_id = tenant_of(user)
    user.require_tenant_access(tenant_id, admin=True)
    return tenant_id


@router.post("/users")
async def create_user(
    request: Request, user: ConsoleUser, sessions: Sessions, settings: AppSettings
) -> Response:
    """Add a user to the caller's tenant (password never shown again, never kept)."""
    form = await read_form(request)

    def action() -> tuple[str, str]:
        data = parse(UserCreate, model_input(form))
        with sessions.begin() as db:
            tenant = platform_service.get_tenant_or_raise(db=db, tenant_id=_tenant_admin(user))
            made = platform_service.create_user(db=db, actor=user, tenant=tenant, data=data)
            name, role = made.username, made.role.value
        return USERS, f"User {name} created ({role})"

    kept = {k: v for k, v in form.items() if k != "password"}
    return await submit_in_thread(
        request,
        action=action,
        retry=retry(request, "users", user=user, sessions=sessions, settings=settings, form=kept),
    )


@router.post("/users/{user_id}/update")
async def update_user(
    request: Request, user_id: str, user: ConsoleUser, sessions: Sessions, settings: AppSettings
) -> Response:
    """Change a user's role, or disable/enable it (the API's PATCH body)."""
    form = await read_form(request)

    def action() -> tuple[str, str]:
        data = parse(UserUpdate, model_input(form))
        with sessions.begin() as db:
            tenant = platform_service.get_tenant_or_raise(db=db, tenant_id=_tenant_admin(user))
            found = platform_service.get_user_or_raise(db=db, tenant=tenant, user_id=user_id)
            changed = platform_service.update_user(db=db, actor=user, user=found, data=data)
            state = "enabled" if changed.is_enabled else "disabled"
            message = f"User {changed.username}: {changed.role.value}, {state}"
        return USERS, message

    return await submit_in_thread(
        request,
        action=action,
        retry=retry(request, "users", user=user, sessions=sessions, settings=settings),
    )


@router.post("/users/{user_id}/delete")
async def delete_user(
    request: Request, user_id: str, user: ConsoleUser, sessions: Sessions, settings: AppSettings
) -> Response:
    """Delete a user of the tenant (never the last enabled tenant admin)."""

    def action() -> tuple[str, str]:
        with sessions.begin() as db:
            tenant = platform_service.get_tenant_or_raise(db=db, tenant_id=_tenant_admin(user))
            found = platform_service.get_user_or_raise(db=db, tenant=tenant, user_id=user_id)
            name = found.username
            platform_service.delete_user(db=db, actor=user, user=found)
        return USERS, f"User {name} deleted"

    return await submit_in_thread(
        request,
        action=action,
        retry=retry(request, "users", user=user, sessions=sessions, settings=settings),
    )


@router.post("/mappings")
async def onboard(
    request: Request, user: ConsoleUser, sessions: Sessions, settings: AppSettings
) -> Response:
    """Onboard the tenant into a pool now (project, pool user, credential): the API's PUT."""
    form = await read_form(request)
    pool = form.get("pool", "")

    def action() -> tuple[str, str]:
        mapping, _ = mapping_ensure_flow(
            sessions=sessions,
            actor=user,
            tenant_id=_tenant_admin(user),
            pool_ref=pool,
            settings=settings,
        )
        return OVERVIEW, (
            f"Onboarded into pool {pool}: project {mapping.project_name}, {mapping.state.value}"
        )

    return await submit_in_thread(
        request,
        action=action,
        retry=retry(request, "overview", user=user, sessions=sessions, settings=settings),
    )


@router.get("/mappings/{pool}/leave")
def confirm_leave(request: Request, pool: str, user: ConsoleUser, sessions: Sessions) -> Response:
    """What leaving the pool deletes, and the button that does it."""
    return _leave_page(request, pool, user=user, sessions=sessions)


def _leave_page(
    request: Request,
    pool: str,
    *,
    user: Principal,
    sessions: Sessions,
    flash: Flash | None = None,
    status: int = 200,
) -> Response:
    with sessions() as db:
        tenant_id = _tenant_admin(user)
        found = pool_service.get_or_raise(db=db, ref=pool)
        mapping = mapping_service.get_or_raise(db=db, tenant_id=tenant_id, pool_id=found.id)
        left = record_service.left(db=db, tenant_id=tenant_id, pool_id=found.id)
        project = mapping.project_name
    return page(
        request,
        "tenant/leave.html",
        user=user,
        flash=flash,
        status=status,
        pool=found.name,
        project=project,
        left=left,
    )


@router.post("/mappings/{pool}/leave")
async def leave(
    request: Request, pool: str, user: ConsoleUser, sessions: Sessions, settings: AppSettings
) -> Response:
    """Deprovision the tenant's project in the pool (a job); with objects left, only when
    the confirmation asked to delete them too (``purge``)."""
    form = await read_form(request)

    def action() -> tuple[str, str]:
        with sessions.begin() as db:
            tenant_id = _tenant_admin(user)
            found = pool_service.get_or_raise(db=db, ref=pool)
            mapping = mapping_service.get_or_raise(db=db, tenant_id=tenant_id, pool_id=found.id)
            job = deprovision_job(
                db=db, actor=user, mapping=mapping, pool=found, purge=form.get("purge") == "true"
            )
            job_id, name = job.id, found.name
        return f"/console/jobs/{job_id}", f"Leaving pool {name} (job {job_id[:8]})"

    def again(flash: Flash, status: int) -> Response:
        return _leave_page(request, pool, user=user, sessions=sessions, flash=flash, status=status)

    return await submit_in_thread(request, action=action, retry=again)
