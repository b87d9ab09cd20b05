"""Floating IPs from a pool's external network: allocate, associate, release."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.errors import InvalidInput
from tenantfusion.platform.principal import Principal
from tenantfusion.resources import catalog, engine
from tenantfusion.resources.engine import ResourceKind, Row, Target
from tenantfusion.resources.schemas import (
    FloatingIPAction,
    FloatingIPCreate,
    FloatingIPRead,
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
    server: Target | None = None
    if data.server:
        with sessions() as db:
            server, placement = engine.follow(
                db=db,
                tenant_id=tenant_id,
                kind="server",
                record_id=data.server,
                requested_pool=data.pool,
                field="server",
                settings=settings,
            )
        where = server.where
    else:
        where, placement = engine.place(
            sessions=sessions,
            actor=actor,
            settings=settings,
            kind=KIND,
            requested=data.pool,
            selector=data.pool_selector,
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
        done=lambda fip: bool(fip.attrs.get("port_id")) == (data.action == "associate"),
    )


_service = engine.Service(KIND)
list_ = _service.list_
list_async = _service.list_async
show = _service.show
delete = _service.delete
