"""Routers: distributed in pools whose Neutron has DVR; interfaces and external gateway."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.db import release
from tenantfusion.errors import InvalidInput
from tenantfusion.platform.principal import Principal
from tenantfusion.pools.drivers.remote import RemoteObject
from tenantfusion.resources import catalog, engine
from tenantfusion.resources import subnets as subnet_kind
from tenantfusion.resources.engine import Onboarded, ResourceKind, Row
from tenantfusion.resources.schemas import (
    RouterAction,
    RouterCreate,
    RouterRead,
)


def _read(row: Row) -> RouterRead:
    attrs = row.remote.attrs
    interfaces = [row.ref("subnet", s) for s in attrs.get("interface_subnet_ids", [])]
    return RouterRead(
        **row.base(),
        is_distributed=attrs.get("is_distributed"),
        external_gateway=bool(attrs.get("external_network_id")),
        interfaces=[i for i in interfaces if i],
    )


KIND = ResourceKind(name="router", needs=("network",), read=_read)


def spec_for(*, where: Onboarded, name: str, external_gateway: bool) -> dict[str, Any]:
    """The driver spec of a router in ``where``'s pool (distributed if it has DVR)."""
    spec: dict[str, Any] = {"name": name, "distributed": "dvr" in where.pool.features}
    if external_gateway:
        spec["external_network_id"] = catalog.external_network(
            driver=where.driver, pool=where.pool
        ).remote_id
    return spec


def create(
    *, sessions: sessionmaker[Session], actor: Principal, data: RouterCreate, settings: Settings
) -> RouterRead:
    """Create a router, onboarding the tenant into the pool first if needed (one call).

    Distributed in pools with the ``dvr`` capability (that one call needs the pool admin,
    with the tenant's project id; everything else runs as the tenant).
    """
    where, placement = engine.place(
        sessions=sessions,
        actor=actor,
        settings=settings,
        kind=KIND,
        requested=data.pool,
        selector=data.pool_selector,
    )
    return engine.create(
        sessions=sessions,
        actor=actor,
        kind=KIND,
        where=where,
        spec=spec_for(where=where, name=data.name, external_gateway=data.external_gateway),
        placement=placement,
    )


def action(
    *, db: Session, actor: Principal, settings: Settings, record_id: str, data: RouterAction
) -> RouterRead:
    """add_interface/remove_interface (a subnet of the tenant in the same pool),
    set_gateway/clear_gateway (the pool's external network)."""
    tenant_id = engine.tenant_of(actor)
    target = engine.routed(
        db=db, tenant_id=tenant_id, kind=KIND.name, record_id=record_id, settings=settings
    )
    args: dict[str, Any] = {}
    if data.action in ("add_interface", "remove_interface"):
        if not data.subnet:
            raise InvalidInput(f"{data.action} needs a subnet", field="subnet")
        subnet = engine.routed(
            db=db,
            tenant_id=tenant_id,
            kind=subnet_kind.KIND.name,
            record_id=data.subnet,
            settings=settings,
        ).record
        if subnet.pool_id != target.record.pool_id:
            raise InvalidInput(
                f"subnet {data.subnet} is in another pool than router {record_id}",
                field="subnet",
                pool=target.where.pool.name,
            )
        args["subnet_id"] = subnet.remote_id
    elif data.action == "set_gateway":
        release(db)  # a pool call follows: no database connection held meanwhile
        args["network_id"] = catalog.external_network(
            driver=target.where.driver, pool=target.where.pool
        ).remote_id
    return engine.act(
        db=db,
        actor=actor,
        settings=settings,
        kind=KIND,
        record_id=record_id,
        action=data.action,
        args=args,
        done=lambda router: _done(data.action, args, router),
    )


def _done(action: str, args: dict[str, Any], router: RemoteObject) -> bool:
    """Whether ``action`` shows in the router as the pool has it now."""
    attached = args.get("subnet_id") in router.attrs.get("interface_subnet_ids", [])
    gateway = bool(router.attrs.get("external_network_id"))
    return {
        "add_interface": attached,
        "remove_interface": not attached,
        "set_gateway": gateway,
        "clear_gateway": not gateway,
    }[action]


_service = engine.Service(KIND)
list_ = _service.list_
list_async = _service.list_async
show = _service.show
delete = _service.delete
