"""Mapping rows: lookups and the lease that makes one worker at a time provision a mapping."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenantfusion import coherence
from tenantfusion.db import utcnow
from tenantfusion.errors import NotFound
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.pools.models import Pool


def new_owner() -> str:
    """A lease owner id unique to this process and call."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


#: Built once: every call into a tenant's pool looks its mapping up (half the CPU of
#: building the statement per call; the compiled form is cached and prepared by psycopg).
_BY_TENANT_AND_POOL = select(Mapping).where(
    Mapping.tenant_id == bindparam("tenant_id"), Mapping.pool_id == bindparam("pool_id")
)


def get(*, db: Session, tenant_id: str, pool_id: str) -> Mapping | None:
    """The mapping of a tenant in a pool, or None."""
    return db.scalar(_BY_TENANT_AND_POOL, {"tenant_id": tenant_id, "pool_id": pool_id})


def get_or_raise(*, db: Session, tenant_id: str, pool_id: str) -> Mapping:
    """The mapping; raises NotFound."""
    mapping = get(db=db, tenant_id=tenant_id, pool_id=pool_id)
    if mapping is None:
        raise NotFound("this tenant has no mapping in that pool")
    return mapping


def get_by_pool_ref_or_raise(*, db: Session, tenant_id: str, pool_ref: str) -> tuple[Mapping, str]:
    """The mapping of a tenant in the pool named (or with id) ``pool_ref``, with the pool's
    name, in one query. Raises NotFound."""
    row = db.execute(
        select(Mapping, Pool.name)
        .join(Pool, Pool.id == Mapping.pool_id)
        .where(Mapping.tenant_id == tenant_id, or_(Pool.name == pool_ref, Pool.id == pool_ref))
    ).first()
    if row is None:
        raise NotFound(f"this tenant has no mapping in pool {pool_ref}")
    return row[0], row[1]


def list_for_tenant(*, db: Session, tenant_id: str) -> list[Mapping]:
    """A tenant's mappings."""
    return list(
        db.scalars(
            select(Mapping).where(Mapping.tenant_id == tenant_id).order_by(Mapping.created_at)
        )
    )


def list_for_pool(*, db: Session, pool_id: str) -> list[Mapping]:
    """Every mapping into one pool."""
    return list(db.scalars(select(Mapping).where(Mapping.pool_id == pool_id)))


def count(*, db: Session, tenant_id: str | None = None, pool_id: str | None = None) -> int:
    """How many mappings a tenant or a pool has."""
    stmt = select(func.count()).select_from(Mapping)
    if tenant_id:
        stmt = stmt.where(Mapping.tenant_id == tenant_id)
    if pool_id:
        stmt = stmt.where(Mapping.pool_id == pool_id)
    return db.scalar(stmt) or 0


def get_or_create(*, db: Session, tenant_id: str, pool_id: str, name: str) -> tuple[Mapping, bool]:
    """The mapping row, inserting a pending one if absent (commits; safe under races)."""
    mapping = get(db=db, tenant_id=tenant_id, pool_id=pool_id)
    if mapping is not None:
        return mapping, False
    mapping = Mapping(tenant_id=tenant_id, pool_id=pool_id, project_name=name, user_name=name)
    db.add(mapping)
    try:
        db.commit()
        return mapping, True
    except IntegrityError:
        db.rollback()
        return get_or_raise(db=db, tenant_id=tenant_id, pool_id=pool_id), False


def try_lease(
    *,
    db: Session,
    mapping_id: str,
    owner: str,
    seconds: float,
    allow_states: tuple[MappingState, ...],
) -> bool:
    """Take the mapping's lease if free or expired, in one atomic UPDATE (commits)."""
    now = utcnow()
    result = db.execute(
        update(Mapping)
        .where(
            Mapping.id == mapping_id,
            Mapping.state.in_(allow_states),
            (Mapping.lease_owner.is_(None)) | (Mapping.lease_expires_at < now),
        )
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False, **coherence.NEUTRAL)
    )
    db.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def renew_lease(*, db: Session, mapping: Mapping, owner: str, seconds: float) -> bool:
    """Extend a lease this owner still holds (fencing: False if it was lost)."""
    result = db.execute(
        update(Mapping)
        .where(Mapping.id == mapping.id, Mapping.lease_owner == owner)
        .values(lease_expires_at=utcnow() + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False, **coherence.NEUTRAL)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release_lease(*, db: Session, mapping_id: str, owner: str) -> None:
    """Give the lease back (commits)."""
    db.execute(
        update(Mapping)
        .where(Mapping.id == mapping_id, Mapping.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False, **coherence.NEUTRAL)
    )
    db.commit()
