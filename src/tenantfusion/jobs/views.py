"""HTTP routes of jobs."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from tenantfusion.deps import AppSettings, CurrentUser, DbSession
from tenantfusion.jobs import service
from tenantfusion.jobs.models import JobState
from tenantfusion.jobs.schemas import JobRead
from tenantfusion.schemas import Page

router = APIRouter(tags=["jobs"])


@router.get("/jobs", response_model=Page[JobRead])
def list_jobs(
    principal: CurrentUser,
    db: DbSession,
    state: JobState | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> Page[JobRead]:
    jobs = service.list_(db=db, actor=principal, limit=limit, state=state)
    return Page[JobRead](items=[JobRead.model_validate(j) for j in jobs])


@router.get("/jobs/{job_id}", response_model=JobRead)
def show_job(job_id: str, principal: CurrentUser, db: DbSession) -> JobRead:
    return JobRead.model_validate(service.get_or_raise(db=db, job_id=job_id, actor=principal))


@router.post("/jobs/{job_id}/retry", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
def retry_job(job_id: str, principal: CurrentUser, db: DbSession, settings: AppSettings) -> JobRead:
    job = service.retry(
        db=db, actor=principal, job_id=job_id, deadline_seconds=settings.job_deadline_seconds
    )
    return JobRead.model_validate(job)
