"""Pick a pool when a create names none: prefer pools the tenant already uses, skip
disabled and unreachable ones. Returns the pool and the reason for the choice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tenantfusion.errors import PoolUnavailable
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.models import MappingState
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.models import Pool, PoolStatus


def choose(*, db: Session, tenant_id: str, requested: str | None) -> tuple[Pool, str]:
    """The pool to use, and why. Raises NotFound or PoolUnavailable."""
    if requested:
        pool = pool_service.get_or_raise(db=db, ref=requested)
        if not pool.is_enabled:
            raise PoolUnavailable(f"pool {pool.name} is disabled", pool=pool.name)
        return pool, "requested"
    usable = [
        p
        for p in pool_service.list_(db=db)
        if p.is_enabled and p.status is not PoolStatus.unreachable
    ]
    if not usable:
        raise PoolUnavailable("no enabled, reachable pool")
    mapped = {
        m.pool_id
        for m in mapping_service.list_for_tenant(db=db, tenant_id=tenant_id)
        if m.state is MappingState.active
    }
    for pool in usable:
        if pool.id in mapped:
            return pool, "tenant already has a mapping there"
    return usable[0], "first reachable pool (tenant has no mapping yet)"
