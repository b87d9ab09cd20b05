"""Floating IPs from a pool's external network: allocate, associate, release."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.errors import InvalidInput
from tenantfusion.platform.principal import Principal
from tenantfusion.resources import catalog, engine, scheduler
from tenantfusion.resources.engine import ResourceKind, Row, Target
from tenantfusion.resources.schemas import (
    FloatingIPAction,
    FloatingIPCreate,
    FloatingIPRead,
    ListQuery,
    Placement,
    ResourcePage,
)


def _read(row: Row) -> FloatingIPRead:
    attrs = row.remote.attrs
    return FloatingIPRead(
        **row.base(),
        address=attrs.get("address") or "",
        server=row.ref("server", attrs.get("device_id")),
        fixed_ip=attrs.get("fixed_ip"),
    )


KIND = ResourceKind(name="floating_ip", needs=("network",), read=_read)


def _server(*, db: Session, tenant_id: str, record_id: str, settings: Settings) -> Target:
    return engine.routed(
        db=db, tenant_id=tenant_id, kind="server", record_id=record_id, settings=settings
    )


def create(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    data: FloatingIPCreate,
    settings: Settings,
) -> FloatingIPRead:
    """Allocate a floating IP (in the server's pool when ``server`` is given, and associate
    it with that server in the same call)."""
    tenant_id = engine.tenant_of(actor)
    with sessions() as db:
        server = (
            _server(db=db, tenant_id=tenant_id, record_id=data.server, settings=settings)
            if data.server
            else None
        )
        if server is not None:
            if data.pool and data.pool != server.where.pool.name:
                raise InvalidInput(
                    f"server {data.server} is in pool {server.where.pool.name}, not {data.pool}",
                    field="server",
                    pool=data.pool,
                )
            pool = server.where.pool
            placement = Placement(pool=pool.name, reason="pool of the server")
        else:
            pool, placement = scheduler.choose(
                db=db,
                settings=settings,
                tenant_id=tenant_id,
                requested=data.pool,
                selector=data.pool_selector,
                needs=KIND.needs,
            )
    where = (
        server.where
        if server
        else engine.onboard(sessions=sessions, actor=actor, pool=pool, settings=settings)
    )
    external = catalog.external_network(driver=where.driver, pool=where.pool)
    created = engine.create(
        sessions=sessions,
        actor=actor,
        kind=KIND,
        where=where,
        spec={"name": "", "network_id": external.remote_id},
        placement=placement,
    )
    if server is None:
        return created
    try:
        with sessions() as db:
            associated = action(
                db=db,
                actor=actor,
                settings=settings,
                record_id=created.id,
                data=FloatingIPAction(action="associate", server=server.record.id),
            )
    except BaseException:  # one call, one outcome: don't keep an address nobody asked for
        delete(sessions=sessions, actor=actor, settings=settings, record_id=created.id)
        raise
    associated.placement = placement
    return associated


def action(
    *, db: Session, actor: Principal, settings: Settings, record_id: str, data: FloatingIPAction
) -> FloatingIPRead:
    """associate (with a server of the tenant in the same pool) or disassociate."""
    args: dict[str, Any] = {}
    if data.action == "associate":
        if not data.server:
            raise InvalidInput("associate needs a server", field="server")
        tenant_id = engine.tenant_of(actor)
        fip = engine.routed(
            db=db, tenant_id=tenant_id, kind=KIND.name, record_id=record_id, settings=settings
        )
        server = _server(db=db, tenant_id=tenant_id, record_id=data.server, settings=settings)
        if server.record.pool_id != fip.record.pool_id:
            raise InvalidInput(
                f"server {data.server} is in another pool than floating IP {record_id}",
                field="server",
                pool=fip.where.pool.name,
            )
        args["server_id"] = server.record.remote_id
    return engine.act(
        db=db,
        actor=actor,
        settings=settings,
        kind=KIND,
        record_id=record_id,
        action=data.action,
        args=args,
    )


def list_(
    *, db: Session, actor: Principal, settings: Settings, query: ListQuery
) -> ResourcePage[FloatingIPRead]:
    return engine.list_(db=db, actor=actor, settings=settings, kind=KIND, query=query)


def show(*, db: Session, actor: Principal, settings: Settings, record_id: str) -> FloatingIPRead:
    return engine.show(db=db, actor=actor, settings=settings, kind=KIND, record_id=record_id)


def delete(
    *, sessions: sessionmaker[Session], actor: Principal, settings: Settings, record_id: str
) -> None:
    """Release the address back to the pool."""
    engine.delete(sessions=sessions, actor=actor, settings=settings, kind=KIND, record_id=record_id)
