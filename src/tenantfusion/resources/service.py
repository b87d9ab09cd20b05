"""Routing records: write before the remote call, activate after it, drop on failure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from tenantfusion.errors import NotFound, QuotaExceeded
from tenantfusion.quotas import service as quota_service
from tenantfusion.resources.models import RecordState, RoutingRecord

#: Records a tenant sees (lists, show): deletes in progress and failed deletes included.
VISIBLE = (RecordState.active, RecordState.deleting, RecordState.delete_failed)


def begin(
    *,
    db: Session,
    tenant_id: str,
    pool_id: str,
    kind: str,
    name: str,
    tag: str | None = None,
    request_key: str | None = None,
    charges: Mapping[str, int] | None = None,
) -> tuple[RoutingRecord, bool]:
    """A ``creating`` record, committed before the pool is asked to create anything, and
    whether it already existed: a retried request (same ``request_key``, from its
    Idempotency-Key) gets the record of its first attempt back, whatever its state.

    The record reserves its ``charges`` (default: one of its kind) against the tenant's
    quotas in the same transaction, under the tenant's quota lock. Raises QuotaExceeded
    (nothing written), IntegrityError when ``tag`` is already taken for this tenant, pool
    and kind.
    """
    if request_key is not None:
        earlier = by_request_key(db=db, tenant_id=tenant_id, request_key=request_key)
        if earlier is not None:
            return earlier, True
    charged = quota_service.charges_for(kind=kind, extra=charges)
    try:
        quota_service.reserve(db=db, tenant_id=tenant_id, pool_id=pool_id, charges=charged)
    except QuotaExceeded:
        db.rollback()
        raise
    record = RoutingRecord(
        tenant_id=tenant_id,
        pool_id=pool_id,
        kind=kind,
        name=name,
        tag=tag,
        request_key=request_key,
        charges=charged,
    )
    db.add(record)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        if request_key is None:
            raise
        earlier = by_request_key(db=db, tenant_id=tenant_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier, True  # a concurrent attempt of the same request won the insert
    return record, False


def begin_many(
    *,
    db: Session,
    tenant_id: str,
    pool_id: str,
    kind: str,
    names: Sequence[str],
    charges: Mapping[str, int] | None = None,
) -> list[RoutingRecord]:
    """One ``creating`` record per name, for a request that creates several objects at
    once, committed before the pool is asked: all or none. Each reserves ``charges``
    (default: one of its kind); their sum is checked against the tenant's quotas in one
    transaction, under the tenant's quota lock. Raises QuotaExceeded (nothing written)."""
    each = quota_service.charges_for(kind=kind, extra=charges)
    total = {resource: amount * len(names) for resource, amount in each.items()}
    try:
        quota_service.reserve(db=db, tenant_id=tenant_id, pool_id=pool_id, charges=total)
    except QuotaExceeded:
        db.rollback()
        raise
    made = [
        RoutingRecord(tenant_id=tenant_id, pool_id=pool_id, kind=kind, name=name, charges=each)
        for name in names
    ]
    db.add_all(made)
    db.commit()
    return made


def by_request_key(*, db: Session, tenant_id: str, request_key: str) -> RoutingRecord | None:
    """The record a request with this idempotency key created, if any."""
    return db.scalar(
        select(RoutingRecord).where(
            RoutingRecord.tenant_id == tenant_id, RoutingRecord.request_key == request_key
        )
    )


def activate(*, db: Session, record: RoutingRecord, remote_id: str) -> RoutingRecord:
    """Point the record at the remote object (commits)."""
    record.remote_id, record.state = remote_id, RecordState.active
    db.commit()
    return record


def discard(*, db: Session, record: RoutingRecord) -> None:
    """Drop a record whose remote object does not exist (commits)."""
    db.delete(record)
    db.commit()


def get_or_raise(
    *,
    db: Session,
    tenant_id: str,
    kind: str,
    record_id: str,
    states: tuple[RecordState, ...] = (RecordState.active,),
) -> RoutingRecord:
    """A tenant's record in one of ``states``; another tenant's id is NotFound, like an
    unknown one."""
    record = db.get(RoutingRecord, record_id)
    if (
        record is None
        or record.tenant_id != tenant_id
        or record.kind != kind
        or record.state not in states
    ):
        raise NotFound(f"{kind.replace('_', ' ')} {record_id} not found")
    return record


def tagged(
    *, db: Session, tenant_id: str, pool_id: str, kind: str, tag: str
) -> RoutingRecord | None:
    """The tenant's record of ``kind`` carrying ``tag`` in a pool, in any state."""
    return db.scalar(
        select(RoutingRecord).where(
            RoutingRecord.tenant_id == tenant_id,
            RoutingRecord.pool_id == pool_id,
            RoutingRecord.kind == kind,
            RoutingRecord.tag == tag,
        )
    )


def left(*, db: Session, tenant_id: str, pool_id: str | None = None) -> dict[str, list[str]]:
    """The tenant's records in any state (in one pool, or all), as ``{kind: [record id]}``."""
    stmt = select(RoutingRecord.kind, RoutingRecord.id).where(RoutingRecord.tenant_id == tenant_id)
    if pool_id is not None:
        stmt = stmt.where(RoutingRecord.pool_id == pool_id)
    found: dict[str, list[str]] = {}
    for kind, record_id in db.execute(stmt.order_by(RoutingRecord.created_at)):
        found.setdefault(kind, []).append(record_id)
    return found


def count_in_pool(*, db: Session, pool_id: str) -> int:
    """How many records (any tenant, any state) point into a pool."""
    stmt = select(func.count()).select_from(RoutingRecord).where(RoutingRecord.pool_id == pool_id)
    return db.scalar(stmt) or 0


def drop_all(*, db: Session, tenant_id: str, pool_id: str | None = None) -> int:
    """Delete the tenant's records (in one pool, or all) once their objects are gone.

    Flushes; returns how many went."""
    stmt = delete(RoutingRecord).where(RoutingRecord.tenant_id == tenant_id)
    if pool_id is not None:
        stmt = stmt.where(RoutingRecord.pool_id == pool_id)
    result = db.execute(stmt.execution_options(synchronize_session="fetch"))
    db.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Refs:
    """A tenant's visible records, to turn a pool's remote ids into platform ids."""

    records: list[RoutingRecord]
    by_remote: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def platform_id(self, pool_id: str, kind: str, remote_id: str | None) -> str | None:
        return self.by_remote.get((pool_id, kind, remote_id)) if remote_id else None


#: Columns a list does not read: left out of ``refs``' query (a page of 1,000 servers
#: decodes no JSON for them); reading one on such a record costs a query.
REFS_DEFERRED = (
    RoutingRecord.charges,
    RoutingRecord.request_key,
    RoutingRecord.missing_since,
    RoutingRecord.updated_at,
)


#: Built once: every list reads it, and building its options cost more than running it.
_REFS = (
    select(RoutingRecord)
    .where(RoutingRecord.tenant_id == bindparam("tenant_id"), RoutingRecord.state.in_(VISIBLE))
    .options(*(defer(column) for column in REFS_DEFERRED))
)


def refs(*, db: Session, tenant_id: str) -> Refs:
    """Every record of the tenant it may see (``VISIBLE``; one query, without the
    ``REFS_DEFERRED`` columns)."""
    rows = list(db.scalars(_REFS, {"tenant_id": tenant_id}))
    return Refs(
        records=rows,
        by_remote={(r.pool_id, r.kind, r.remote_id or ""): r.id for r in rows},
    )


def by_remote(
    *, db: Session, tenant_id: str, pool_id: str, kind: str, remote_id: str
) -> RoutingRecord | None:
    """The tenant's record of the object ``remote_id`` of ``kind`` in a pool, if any."""
    return db.scalar(
        select(RoutingRecord).where(
            RoutingRecord.tenant_id == tenant_id,
            RoutingRecord.pool_id == pool_id,
            RoutingRecord.kind == kind,
            RoutingRecord.remote_id == remote_id,
        )
    )
