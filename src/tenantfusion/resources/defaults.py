"""A tenant's default network in a pool: network + subnet + router to the external
network, made on first use when the pool has ``default_network_cidr``.

Each part is a routing record tagged ``default`` (unique per tenant, pool and kind), so
concurrent first servers make one set, and a crash half-way is finished by the next call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.db import utcnow
from tenantfusion.errors import Conflict, InvalidInput, PoolError
from tenantfusion.faults import crash_point
from tenantfusion.platform.principal import Principal
from tenantfusion.pools.models import Pool
from tenantfusion.resources import engine, networks, routers, subnets
from tenantfusion.resources import service as record_service
from tenantfusion.resources.engine import Onboarded, ResourceKind
from tenantfusion.resources.models import RecordState, RoutingRecord
from tenantfusion.resources.schemas import ResourceRead

TAG = networks.DEFAULT_TAG
WAIT_SECONDS = 60.0


def _ensure(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    where: Onboarded,
    kind: ResourceKind[Any],
    spec: Mapping[str, Any],
    settings: Settings,
) -> str:
    """The remote id of the tenant's default object of ``kind``, creating it if needed."""
    tenant_id = engine.tenant_of(actor)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with sessions() as db:
            record = record_service.tagged(
                db=db, tenant_id=tenant_id, pool_id=where.pool.id, kind=kind.name, tag=TAG
            )
        if record is not None and record.state is RecordState.active:
            return record.remote_id or ""
        if record is not None and _settled(
            sessions=sessions, record=record, where=where, kind=kind, settings=settings
        ):
            continue
        if record is None:
            try:
                created: ResourceRead = engine.create(
                    sessions=sessions, actor=actor, kind=kind, where=where, spec=spec, tag=TAG
                )
                return created.remote_id
            except IntegrityError:
                pass  # another request is making it: wait for that one
        if time.monotonic() > deadline:
            raise Conflict(
                f"the default {kind.name} in pool {where.pool.name} is still being created; "
                "retry shortly"
            )
        time.sleep(0.5)


def _settled(
    *,
    sessions: sessionmaker[Session],
    record: RoutingRecord,
    where: Onboarded,
    kind: ResourceKind[Any],
    settings: Settings,
) -> bool:
    """Finish a ``creating`` default part another attempt left: adopt its object (found by
    the record tag) at once, or drop the record once no create can still be in flight.
    False while it may still be in flight (wait for it)."""
    found = where.driver.find_by_record(session=where.session, kind=kind.name, record_id=record.id)
    in_flight = timedelta(seconds=2 * settings.pool_timeout_seconds + 5)
    if found is None and record.created_at > utcnow() - in_flight:
        return False
    with sessions() as db:
        stale = db.merge(record)
        if found is None:
            record_service.discard(db=db, record=stale)
        else:
            record_service.activate(db=db, record=stale, remote_id=found.remote_id)
    return True


def require(pool: Pool) -> str:
    """The pool's default CIDR. Raises InvalidInput (naming ``network``) when it has none."""
    if not pool.default_network_cidr:
        raise InvalidInput(
            f"network is required: pool {pool.name} gives tenants no default network",
            field="network",
            pool=pool.name,
        )
    return pool.default_network_cidr


def ensure_default_network(
    *, sessions: sessionmaker[Session], actor: Principal, where: Onboarded, settings: Settings
) -> str:
    """The remote id of the tenant's default network in ``where``'s pool.

    Raises InvalidInput when the pool gives no default network.
    """
    cidr = require(where.pool)
    network_id = _ensure(
        sessions=sessions,
        actor=actor,
        where=where,
        kind=networks.KIND,
        spec={"name": TAG},
        settings=settings,
    )
    subnet_id = _ensure(
        sessions=sessions,
        actor=actor,
        where=where,
        kind=subnets.KIND,
        spec={"name": TAG, "network_id": network_id, "cidr": cidr, "ip_version": 4},
        settings=settings,
    )
    try:
        spec = routers.spec_for(where=where, name=TAG, external_gateway=True)
    except InvalidInput:
        return network_id  # no external network: an isolated default network still works
    router_id = _ensure(
        sessions=sessions, actor=actor, where=where, kind=routers.KIND, spec=spec, settings=settings
    )
    router = where.driver.get_object(session=where.session, kind="router", remote_id=router_id)
    if router is not None and subnet_id not in router.attrs.get("interface_subnet_ids", []):
        try:
            where.driver.act(
                session=where.session,
                kind="router",
                remote_id=router_id,
                action="add_interface",
                args={"subnet_id": subnet_id},
            )
            crash_point("resource.default.router_interface.pool_done")
        except PoolError:
            # a concurrent first use attached it a moment ago
            again = where.driver.get_object(
                session=where.session, kind="router", remote_id=router_id
            )
            if again is None or subnet_id not in again.attrs.get("interface_subnet_ids", []):
                raise
    return network_id
