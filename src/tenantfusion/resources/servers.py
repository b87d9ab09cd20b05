"""Servers (Nova): create with lazy onboarding and validation in the chosen pool, actions,
delete through a job that waits until the pool has really removed it."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.errors import InvalidInput, TenantFusionError
from tenantfusion.jobs.models import Job
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.models import Pool
from tenantfusion.resources import catalog, defaults, deletion, engine, scheduler
from tenantfusion.resources import networks as network_kind
from tenantfusion.resources.engine import ResourceKind, Row, Target
from tenantfusion.resources.schemas import (
    ServerAction,
    ServerCreate,
    ServerRead,
)


def _read(row: Row) -> ServerRead:
    attrs = row.remote.attrs
    return ServerRead(
        **row.base(),
        flavor=attrs.get("flavor"),
        image=attrs.get("image_id"),
        addresses=dict(attrs.get("addresses") or {}),
        power_state=attrs.get("power_state"),
        task_state=attrs.get("task_state"),
    )


KIND = ResourceKind(
    name="server", needs=("compute", "network", "image"), read=_read, delete_is_async=True
)


def _fits(data: ServerCreate, settings: Settings) -> scheduler.Fits:
    """The scheduler's check for one pool: flavor and image exist, and Placement has room."""

    def fits(pool: Pool) -> str | None:
        driver = pool_service.driver_for(pool=pool, settings=settings)
        try:
            flavor = catalog.lookup(
                driver=driver, pool=pool, kind="flavor", ref=data.flavor, field="flavor"
            )
            catalog.lookup(driver=driver, pool=pool, kind="image", ref=data.image, field="image")
        except InvalidInput as e:
            return e.detail
        capacity = driver.capacity() if "placement" in pool.services else None
        if capacity is not None and (
            capacity.ram_mb < flavor.attrs["ram_mb"] or capacity.vcpus < flavor.attrs["vcpus"]
        ):
            return f"no room for flavor {flavor.name}"  # capacity figures stay private
        return None

    return fits


def create(
    *, sessions: sessionmaker[Session], actor: Principal, data: ServerCreate, settings: Settings
) -> ServerRead:
    """Create a server in one call: choose the pool (or take the network's), check flavor,
    image and network there (422 naming the field and pool), onboard the tenant if it has
    no mapping yet, make its default network if the pool gives one, then boot.

    Status is the pool's (BUILD at first); a failed create leaves no record and no server.
    """
    tenant_id = engine.tenant_of(actor)
    network: Target | None = None
    with sessions() as db:
        if data.network:
            network, placement = engine.follow(
                db=db,
                tenant_id=tenant_id,
                kind=network_kind.KIND.name,
                record_id=data.network,
                requested_pool=data.pool,
                field="network",
                settings=settings,
            )
            pool = network.where.pool
        else:
            pool, placement = scheduler.choose(
                db=db,
                settings=settings,
                tenant_id=tenant_id,
                requested=data.pool,
                selector=data.pool_selector,
                needs=KIND.needs,
                fits=None if data.pool else _fits(data, settings),
            )
    driver = pool_service.driver_for(pool=pool, settings=settings)
    flavor = catalog.lookup(
        driver=driver, pool=pool, kind="flavor", ref=data.flavor, field="flavor"
    )
    image = catalog.lookup(driver=driver, pool=pool, kind="image", ref=data.image, field="image")
    if network is None:
        defaults.require(pool)  # before onboarding: bad input leaves nothing behind
    where = (
        network.where
        if network
        else engine.onboard(sessions=sessions, actor=actor, pool=pool, settings=settings)
    )
    network_id = (
        network.record.remote_id
        if network
        else defaults.ensure_default_network(
            sessions=sessions, actor=actor, where=where, settings=settings
        )
    )
    return engine.create(
        sessions=sessions,
        actor=actor,
        kind=KIND,
        where=where,
        spec={
            "name": data.name,
            "flavor_id": flavor.remote_id,
            "image_id": image.remote_id,
            "network_id": network_id,
        },
        placement=placement,
        charges={"vcpus": flavor.attrs["vcpus"], "ram_mb": flavor.attrs["ram_mb"]},
    )


def action(
    *, db: Session, actor: Principal, settings: Settings, record_id: str, data: ServerAction
) -> ServerRead:
    """start / stop / reboot (``hard``): accepted by the pool; status follows."""
    return engine.act(
        db=db,
        actor=actor,
        settings=settings,
        kind=KIND,
        record_id=record_id,
        action=data.action,
        args={"hard": data.hard} if data.action == "reboot" else {},
    )


_service = engine.Service(KIND)
list_ = _service.list_
list_async = _service.list_async
show = _service.show


def delete(
    *, sessions: sessionmaker[Session], actor: Principal, settings: Settings, record_id: str
) -> Job:
    """Ask the pool to delete the server; a job drops the record once it is gone."""
    job = deletion.delete(
        sessions=sessions, actor=actor, settings=settings, kind=KIND, record_id=record_id
    )
    if job is None:  # pragma: no cover - servers always delete asynchronously
        raise TenantFusionError("server delete did not start a job")
    return job
