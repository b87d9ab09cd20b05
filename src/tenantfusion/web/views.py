"""Console pages every user has: login, logout, home, a job, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Query, Request, Response

from tenantfusion.audit import service as audit_service
from tenantfusion.audit.schemas import AuditEventRead
from tenantfusion.db import utcnow
from tenantfusion.deps import AppSettings, Sessions, login_slot
from tenantfusion.errors import TenantFusionError
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.schemas import JobRead
from tenantfusion.observe import source_of
from tenantfusion.platform import auth as auth_service
from tenantfusion.platform.principal import Principal
from tenantfusion.platform.schemas import TokenCreate
from tenantfusion.web import charts
from tenantfusion.web.auth import (
    SESSION_COOKIE,
    ConsoleUser,
    end_session,
    keep_prelogin,
    prelogin_nonce,
    session_token,
    start_session,
)
from tenantfusion.web.live import is_moving
from tenantfusion.web.render import Flash, kept, page, parse, redirect, submit
from tenantfusion.web.routing import LOGIN_URL, console_router

router = console_router()
AUDIT_PAGE = 50


def _login_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    error: Flash | None = None,
    status: int = 200,
) -> Response:
    """The login form; its CSRF token is tied to a pre-login nonce until there is a session."""
    session = request.cookies.get(SESSION_COOKIE)
    nonce = prelogin_nonce(request)
    response = page(
        request,
        "login.html",
        user=None,
        flash=error,
        status=status,
        session=session or nonce,
        form=kept(form),
    )
    if not session:
        keep_prelogin(response, request, nonce)
    return response


@router.get("/login")
def show_login(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", dependencies=[Depends(login_slot)])
def login(
    request: Request,
    sessions: Sessions,
    settings: AppSettings,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    tenant: Annotated[str, Form()] = "",
) -> Response:
    """Check the password with the platform (the API's TokenCreate limits apply), keep the
    token in the session cookie."""
    try:
        data = parse(
            TokenCreate,
            {"tenant": tenant.strip() or None, "username": username.strip(), "password": password},
        )
        request.state.audit_detail = {"tenant": data.tenant, "username": data.username}
        raw, _, _, _ = auth_service.login(
            sessions=sessions, data=data, source=source_of(request.scope), settings=settings
        )
    except TenantFusionError as e:
        return _login_page(
            request,
            form={"tenant": tenant, "username": username},
            error=Flash.of(e),
            status=e.status,
        )
    response = redirect(request, "/console")
    start_session(response, request, token=raw, max_age=settings.token_ttl_seconds)
    return response


@router.post("/logout")
def logout(request: Request, user: ConsoleUser, sessions: Sessions) -> Response:
    """Revoke the session's token and forget the cookie."""
    token = session_token(request)
    if token:
        with sessions.begin() as db:
            auth_service.revoke_token(db=db, raw_token=token)
    response = redirect(request, LOGIN_URL, flash=Flash("ok", "Logged out"))
    end_session(response, request)
    return response


@router.get("")
def home(request: Request, user: ConsoleUser) -> Response:
    return redirect(request, "/console/admin" if user.is_platform_admin else "/console/overview")


def _job_page(
    request: Request,
    job_id: str,
    *,
    user: Principal,
    sessions: Sessions,
    flash: Flash | None = None,
    status: int = 200,
) -> Response:
    with sessions() as db:
        found = job_service.get_or_raise(db=db, job_id=job_id, actor=user)
        job = JobRead.model_validate(found)
        events = job_service.events(db=db, job=found)
        live = is_moving(jobs=[job])
        spans = charts.job_timeline(
            created_at=job.created_at, events=events, until=utcnow() if live else job.updated_at
        )
    return page(
        request,
        "job.html",
        user=user,
        flash=flash,
        status=status,
        job=job,
        spans=spans,
        live=live,
    )


@router.get("/jobs/{job_id}")
def show_job(request: Request, job_id: str, user: ConsoleUser, sessions: Sessions) -> Response:
    return _job_page(request, job_id, user=user, sessions=sessions)


@router.post("/jobs/{job_id}/retry")
def retry_job(
    request: Request, job_id: str, user: ConsoleUser, sessions: Sessions, settings: AppSettings
) -> Response:
    """Queue a failed job again (the API's retry: attempts reset, a fresh deadline)."""

    def action() -> tuple[str, str]:
        with sessions.begin() as db:
            job = job_service.retry(
                db=db, actor=user, job_id=job_id, deadline_seconds=settings.job_deadline_seconds
            )
            kind = job.kind
        return f"/console/jobs/{job_id}", f"Job {job_id[:8]} ({kind}) queued again"

    def again(flash: Flash, status: int) -> Response:
        return _job_page(request, job_id, user=user, sessions=sessions, flash=flash, status=status)

    return submit(request, action=action, retry=again)


@router.get("/audit")
def show_audit(
    request: Request,
    user: ConsoleUser,
    sessions: Sessions,
    action: Annotated[str | None, Query(max_length=64)] = None,
    marker: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The audit trail: all of it for platform admins, their tenant's for tenant admins."""
    user.require_admin()
    with sessions() as db:
        events = audit_service.list_events(
            db=db,
            tenant_id=None if user.is_platform_admin else user.tenant_id,
            action=action or None,
            limit=AUDIT_PAGE,
            marker=marker,
        )
        rows = [AuditEventRead.model_validate(e) for e in events]
    return page(
        request,
        "audit.html",
        user=user,
        events=rows,
        action=action or "",
        next_marker=rows[-1].id if len(rows) == AUDIT_PAGE else None,
    )
