"""Routers through the pools: lazy onboarding, routing records, DVR where the pool has it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.audit import service as audit_service
from tenantfusion.config import Settings
from tenantfusion.errors import Forbidden, InvalidInput, PoolError, TenantFusionError
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.flows import mapping_ensure_flow
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.mapping.sessions import tenant_session
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.base import RemoteRouter
from tenantfusion.pools.models import Pool
from tenantfusion.resources import scheduler
from tenantfusion.resources import service as record_service
from tenantfusion.resources.models import RoutingRecord
from tenantfusion.resources.schemas import ResourcePage, RouterCreate, RouterRead

KIND = "router"


def _tenant(actor: Principal) -> str:
    if actor.tenant_id is None:
        raise Forbidden("resources are created and listed as a tenant user")
    return actor.tenant_id


def _read(record: RoutingRecord, pool: Pool, remote: RemoteRouter) -> RouterRead:
    return RouterRead(
        id=record.id,
        created_at=record.created_at,
        name=remote.name,
        pool=pool.name,
        remote_id=remote.remote_id,
        status=remote.status,
        is_distributed=remote.is_distributed,
    )


def create(
    *, sessions: sessionmaker[Session], actor: Principal, data: RouterCreate, settings: Settings
) -> RouterRead:
    """Create a router, onboarding the tenant into the pool first if needed (one call).

    Distributed in pools with the ``dvr`` capability. A failed create leaves no record.
    """
    tenant_id = _tenant(actor)
    with sessions() as db:
        pool, reason = scheduler.choose(db=db, tenant_id=tenant_id, requested=data.pool)
    if "network" not in pool.services:
        raise InvalidInput(
            f"pool {pool.name} offers no network service", field="pool", pool=pool.name
        )
    mapping, _ = mapping_ensure_flow(
        sessions=sessions, actor=actor, tenant_id=tenant_id, pool_ref=pool.id, settings=settings
    )
    with sessions() as db:
        record = record_service.begin(
            db=db, tenant_id=tenant_id, pool_id=pool.id, kind=KIND, name=data.name
        )
        driver = pool_service.driver_for(pool=pool, settings=settings)
        try:
            remote = driver.create_router(
                session=tenant_session(mapping=mapping, pool=pool, settings=settings),
                project_id=mapping.project_remote_id or "",
                name=data.name,
                description=f"tenantfusion {record.id}",
                distributed="dvr" in pool.features,
            )
        except Exception:
            record_service.discard(db=db, record=record)
            raise
        record_service.activate(db=db, record=record, remote_id=remote.remote_id)
        audit_service.record(
            db=db,
            actor=actor,
            action="router.create",
            target_kind=KIND,
            target_id=record.id,
            tenant_id=tenant_id,
            detail={
                "pool": pool.name,
                "remote_id": remote.remote_id,
                "scheduler": reason,
                "distributed": remote.is_distributed,
            },
        )
        db.commit()
    return _read(record, pool, remote)


def _one_pool(mapping: Mapping, pool: Pool, settings: Settings) -> list[RemoteRouter]:
    driver = pool_service.driver_for(pool=pool, settings=settings)
    return driver.list_routers(
        session=tenant_session(mapping=mapping, pool=pool, settings=settings)
    )


def list_(
    *,
    db: Session,
    actor: Principal,
    settings: Settings,
    pool: str | None = None,
    name: str | None = None,
) -> ResourcePage[RouterRead]:
    """The tenant's routers from every pool it uses, fetched in parallel with a per-pool
    timeout; a pool that fails is reported in ``pools`` and the list is partial."""
    tenant_id = _tenant(actor)
    pools = {p.id: p for p in pool_service.list_(db=db)}
    mappings = [
        m
        for m in mapping_service.list_for_tenant(db=db, tenant_id=tenant_id)
        if m.state is MappingState.active and (pool is None or pools[m.pool_id].name == pool)
    ]
    records = record_service.by_remote_id(db=db, tenant_id=tenant_id, kind=KIND)
    outcome: dict[str, str] = {}
    items: list[RouterRead] = []
    ex = ThreadPoolExecutor(max_workers=max(1, len(mappings)))
    try:
        futures = {ex.submit(_one_pool, m, pools[m.pool_id], settings): m for m in mappings}
        done, _ = wait(futures, timeout=settings.pool_timeout_seconds)
        for future, m in futures.items():
            p = pools[m.pool_id]
            try:
                remotes = future.result(timeout=0) if future in done else None
            except TenantFusionError:
                remotes = None
            if remotes is None:
                outcome[p.name] = "unavailable"
                continue
            outcome[p.name] = "ok"
            for r in remotes:
                rec = records.get((p.id, r.remote_id))
                if rec is not None and (name is None or r.name == name):
                    items.append(_read(rec, p, r))
    finally:
        # don't join a pool that is still hanging: its answer is no longer wanted
        ex.shutdown(wait=False, cancel_futures=True)
    items.sort(key=lambda x: (x.name, x.id))
    return ResourcePage[RouterRead](items=items, pools=outcome)


def show(*, db: Session, actor: Principal, router_id: str, settings: Settings) -> RouterRead:
    """One router, its status read from the pool. Raises NotFound, PoolError."""
    tenant_id = _tenant(actor)
    record = record_service.get_or_raise(db=db, tenant_id=tenant_id, kind=KIND, record_id=router_id)
    pool = pool_service.get_or_raise(db=db, ref=record.pool_id)
    mapping = mapping_service.get_or_raise(db=db, tenant_id=tenant_id, pool_id=pool.id)
    remote = pool_service.driver_for(pool=pool, settings=settings).get_router(
        session=tenant_session(mapping=mapping, pool=pool, settings=settings),
        remote_id=record.remote_id or "",
    )
    if remote is None:
        raise PoolError(
            f"router {router_id} is routed to pool {pool.name} but gone there", pool=pool.name
        )
    return _read(record, pool, remote)


def delete(*, db: Session, actor: Principal, router_id: str, settings: Settings) -> None:
    """Delete the router in its pool, then its routing record."""
    tenant_id = _tenant(actor)
    record = record_service.get_or_raise(db=db, tenant_id=tenant_id, kind=KIND, record_id=router_id)
    pool = pool_service.get_or_raise(db=db, ref=record.pool_id)
    mapping = mapping_service.get_or_raise(db=db, tenant_id=tenant_id, pool_id=pool.id)
    pool_service.driver_for(pool=pool, settings=settings).delete_router(
        session=tenant_session(mapping=mapping, pool=pool, settings=settings),
        remote_id=record.remote_id or "",
    )
    audit_service.record(
        db=db,
        actor=actor,
        action="router.delete",
        target_kind=KIND,
        target_id=record.id,
        tenant_id=tenant_id,
        detail={"pool": pool.name},
    )
    record_service.discard(db=db, record=record)
