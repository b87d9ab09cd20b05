"""Routing records: write before the remote call, activate after it, drop on failure."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenantfusion.errors import NotFound
from tenantfusion.resources.models import RecordState, RoutingRecord


def begin(*, db: Session, tenant_id: str, pool_id: str, kind: str, name: str) -> RoutingRecord:
    """A ``creating`` record, committed before the pool is asked to create anything."""
    record = RoutingRecord(tenant_id=tenant_id, pool_id=pool_id, kind=kind, name=name)
    db.add(record)
    db.commit()
    return record


def activate(*, db: Session, record: RoutingRecord, remote_id: str) -> RoutingRecord:
    """Point the record at the remote object (commits)."""
    record.remote_id, record.state = remote_id, RecordState.active
    db.commit()
    return record


def discard(*, db: Session, record: RoutingRecord) -> None:
    """Drop a record whose remote object does not exist (commits)."""
    db.delete(record)
    db.commit()


def get_or_raise(*, db: Session, tenant_id: str, kind: str, record_id: str) -> RoutingRecord:
    """A tenant's active record; another tenant's id is NotFound, like an unknown one."""
    record = db.get(RoutingRecord, record_id)
    if (
        record is None
        or record.tenant_id != tenant_id
        or record.kind != kind
        or record.state is not RecordState.active
    ):
        raise NotFound(f"{kind} {record_id} not found")
    return record


def by_remote_id(*, db: Session, tenant_id: str, kind: str) -> dict[tuple[str, str], RoutingRecord]:
    """The tenant's active records of a kind, by (pool id, remote id)."""
    rows = db.scalars(
        select(RoutingRecord).where(
            RoutingRecord.tenant_id == tenant_id,
            RoutingRecord.kind == kind,
            RoutingRecord.state == RecordState.active,
        )
    )
    return {(r.pool_id, r.remote_id or ""): r for r in rows}
