"""Tenant networks."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.platform.principal import Principal
from tenantfusion.resources import engine
from tenantfusion.resources.engine import ResourceKind, Row
from tenantfusion.resources.schemas import NetworkCreate, NetworkRead

DEFAULT_TAG = "default"


def _read(row: Row) -> NetworkRead:
    subnets = [row.ref("subnet", s) for s in row.remote.attrs.get("subnet_ids", [])]
    return NetworkRead(
        **row.base(),
        subnets=[s for s in subnets if s],
        mtu=row.remote.attrs.get("mtu"),
        is_default=row.record.tag == DEFAULT_TAG,
    )


KIND = ResourceKind(name="network", needs=("network",), read=_read)


def create(
    *, sessions: sessionmaker[Session], actor: Principal, data: NetworkCreate, settings: Settings
) -> NetworkRead:
    """Create a network, onboarding the tenant into the pool first if needed."""
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
        spec={"name": data.name},
        placement=placement,
    )


_service = engine.Service(KIND)
list_ = _service.list_
list_async = _service.list_async
show = _service.show
delete = _service.delete
