"""Recording and reading the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenantfusion.audit.models import AuditEvent
from tenantfusion.platform.principal import Principal


def record(
    *,
    db: Session,
    actor: Principal,
    action: str,
    target_kind: str,
    target_id: str | None,
    tenant_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event (committed with the caller's transaction)."""
    event = AuditEvent(
        actor_id=actor.user_id,
        actor_name=actor.username,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        tenant_id=tenant_id,
        detail=detail or {},
    )
    db.add(event)
    return event


def list_events(
    *, db: Session, tenant_id: str | None, action: str | None, limit: int, marker: str | None
) -> list[AuditEvent]:
    """Newest first; ``tenant_id`` restricts to one tenant; ``marker`` is an event id."""
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if tenant_id:
        stmt = stmt.where(AuditEvent.tenant_id == tenant_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if marker:
        anchor = db.get(AuditEvent, marker)
        if anchor is not None:
            stmt = stmt.where(
                (AuditEvent.at < anchor.at)
                | ((AuditEvent.at == anchor.at) & (AuditEvent.id < anchor.id))
            )
    return list(db.scalars(stmt))
