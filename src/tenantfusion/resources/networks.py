"""Tenant networks."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.platform.principal import Principal
from tenantfusion.resources import engine, scheduler
from tenantfusion.resources.engine import ResourceKind, Row
from tenantfusion.resources.schemas import ListQuery, NetworkCreate, NetworkRead, ResourcePage

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
    with sessions() as db:
        pool, placement = scheduler.choose(
            db=db,
            settings=settings,
            tenant_id=engine.tenant_of(actor),
            requested=data.pool,
            selector=data.pool_selector,
            needs=KIND.needs,
        )
    where = engine.onboard(sessions=sessions, actor=actor, pool=pool, settings=settings)
    return engine.create(
        sessions=sessions,
        actor=actor,
        kind=KIND,
        where=where,
        spec={"name": data.name},
        placement=placement,
    )


def list_(
    *, db: Session, actor: Principal, settings: Settings, query: ListQuery
) -> ResourcePage[NetworkRead]:
    return engine.list_(db=db, actor=actor, settings=settings, kind=KIND, query=query)


def show(*, db: Session, actor: Principal, settings: Settings, record_id: str) -> NetworkRead:
    return engine.show(db=db, actor=actor, settings=settings, kind=KIND, record_id=record_id)


def delete(
    *, sessions: sessionmaker[Session], actor: Principal, settings: Settings, record_id: str
) -> None:
    """Delete a network (the pool refuses while ports use it: 409)."""
    engine.delete(sessions=sessions, actor=actor, settings=settings, kind=KIND, record_id=record_id)
