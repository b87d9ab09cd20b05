"""HTTP routes of the audit trail (platform admins see all, tenant admins their tenant)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from tenantfusion.audit import service
from tenantfusion.audit.schemas import AuditEventRead
from tenantfusion.deps import CurrentUser, DbSession
from tenantfusion.schemas import Page

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=Page[AuditEventRead])
def list_audit(
    principal: CurrentUser,
    db: DbSession,
    action: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    marker: str | None = None,
) -> Page[AuditEventRead]:
    principal.require_admin()
    tenant_id = None if principal.is_platform_admin else principal.tenant_id
    events = service.list_events(
        db=db, tenant_id=tenant_id, action=action, limit=limit, marker=marker
    )
    return Page[AuditEventRead](
        items=[AuditEventRead.model_validate(e) for e in events],
        next_marker=events[-1].id if len(events) == limit else None,
    )
