"""Recording, reading and verifying the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tenantfusion.audit.chain import FIELDS, GENESIS, entry_hash, normalise_detail
from tenantfusion.audit.models import AuditEvent, AuditHead
from tenantfusion.db import utcnow
from tenantfusion.observe import current_request
from tenantfusion.platform.principal import Principal


def record(
    *,
    db: Session,
    actor: Principal | None,
    action: str,
    target_kind: str,
    target_id: str | None,
    tenant_id: str | None = None,
    detail: dict[str, Any] | None = None,
    result: str = "ok",
    error_type: str | None = None,
    request_id: str | None = None,
    source: str | None = None,
) -> AuditEvent:
    """Append an event to the hash chain (committed with the caller's transaction).

    The chain's head row is updated first: on PostgreSQL its row lock, on SQLite the write
    lock, orders concurrent appends, so each entry links to the one committed before it.
    """
    context_id, context_source = current_request()
    head = db.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).one()
    event = AuditEvent(
        seq=head.seq,
        at=utcnow(),
        actor_id=actor.user_id if actor else None,
        actor_name=actor.username if actor else "anonymous",
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        tenant_id=tenant_id,
        result=result,
        error_type=error_type,
        request_id=request_id or context_id,
        source=source or context_source,
        detail=normalise_detail(detail),
        prev_hash=head.hash,
    )
    event.hash = entry_hash(head.hash, {f: getattr(event, f) for f in FIELDS})
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=event.hash))
    db.add(event)
    db.flush()
    return event


def list_events(
    *, db: Session, tenant_id: str | None, action: str | None, limit: int, marker: str | None
) -> list[AuditEvent]:
    """Newest first; ``tenant_id`` restricts to one tenant; ``marker`` is an event id."""
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if tenant_id:
        stmt = stmt.where(AuditEvent.tenant_id == tenant_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if marker:
        anchor = db.get(AuditEvent, marker)
        if anchor is not None and anchor.seq is not None:
            stmt = stmt.where(AuditEvent.seq < anchor.seq)
    return list(db.scalars(stmt))


@dataclass(frozen=True)
class ChainReport:
    """The outcome of ``verify``: how many entries were checked, and the first broken one."""

    checked: int
    broken_seq: int | None = None
    broken_id: str | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(*, db: Session, batch: int = 1000) -> ChainReport:
    """Recompute the chain from the first entry; report the first entry that does not fit."""
    prev, expected, checked = GENESIS, 1, 0
    last = 0
    while True:
        rows = list(
            db.scalars(
                select(AuditEvent)
                .where(AuditEvent.seq > last)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
        )
        if not rows:
            break
        for event in rows:
            seq = event.seq or 0
            if seq != expected:
                return ChainReport(checked, expected, event.id, f"entry {expected} is missing")
            if event.prev_hash != prev:
                return ChainReport(checked, seq, event.id, "does not link to the entry before")
            fields = {f: getattr(event, f) for f in FIELDS}
            if event.hash != entry_hash(prev, fields):
                return ChainReport(checked, seq, event.id, "its content was changed")
            prev, expected, checked, last = event.hash, expected + 1, checked + 1, seq
    head = db.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev):
        return ChainReport(checked, checked + 1, None, "entries after the last one were removed")
    return ChainReport(checked)
