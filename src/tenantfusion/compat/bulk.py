"""Bulk creates through the facade, routed like single ones (``records``).

- Neutron's bulk create (``{"networks": [...]}``, same for ``subnets``; its items are the
  objects themselves or wrapped, ``{"network": {...}}``): one ``creating`` record per
  object, their quota reserved together (all or none: QuotaExceeded refuses the request
  before it reaches the pool); each object is marked with its record like a single
  create (the description unless the client set one; the ``tf-rec-<id>`` tag follows).
  Neutron creates all of them or none and answers them in request order (ML2's
  ``_create_bulk_ml2``), so records and answered objects are paired by position. Routers
  and floating IPs take the same path, though Neutron refuses their bulk creates (400),
  which drops the records.
- Nova's multiple create (``min_count``/``max_count`` above 1, or
  ``return_reservation_id``): ``max_count`` records reserving each a server and its
  flavor's vCPUs and RAM. Nova answers the first server or the reservation id only; its
  servers are then listed by reservation (read as the pool admin: a member cannot see a
  server's reservation id) and each gets a record; records left over (Nova made fewer
  than ``max_count``, down to ``min_count``) are dropped, giving their quota back.

A refusal (4xx) drops every record. A lost answer (no answer, 5xx) leaves them
``creating`` for the reconciler: Neutron objects are found again by their marks; servers
carry none (as a single facade server), so once their lease has passed the reconciler
drops their records, giving the reservation back, and servers Nova did make are unrouted
until adopted by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.compat.records import Routed, _audit, charges
from tenantfusion.config import Settings
from tenantfusion.errors import InvalidInput, PoolError
from tenantfusion.platform.principal import Principal
from tenantfusion.pools.drivers.remote import record_description
from tenantfusion.pools.models import Pool
from tenantfusion.resources import service as record_service
from tenantfusion.resources.engine import Onboarded, tenant_of
from tenantfusion.resources.models import RoutingRecord

log = structlog.get_logger(__name__)

#: The most objects one bulk create may ask for: each is a record written (and its quota
#: reserved) before the pool is asked; more is refused with 400.
MAX_OBJECTS = 1000


@dataclass
class Batch:
    """A bulk create: the objects of its body (Nova's: the one ``server``) and, once
    begun, one record per object it may create."""

    routed: Routed
    objects: list[dict[str, Any]]
    count: int
    records: list[RoutingRecord] = field(default_factory=list)


def _count(value: Any, default: int) -> int | None:
    """Nova's ``min_count``/``max_count``: an integer or a string of digits."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def plan(*, routed: Routed, body: Any) -> Batch | None:
    """The bulk create ``body`` asks for, or None: a single-object create (or a body the
    pool will refuse, left to the single path). Raises InvalidInput past MAX_OBJECTS."""
    batch = _plan(routed=routed, body=body)
    if batch is not None and batch.count > MAX_OBJECTS:
        raise InvalidInput(
            f"a bulk create of {batch.count} {routed.collection.rsplit('/', 1)[-1]} is not"
            f" offered through this API: at most {MAX_OBJECTS} per request"
        )
    return batch


def _plan(*, routed: Routed, body: Any) -> Batch | None:
    if not isinstance(body, dict) or routed.remote_id is not None:
        return None
    if routed.kind == "server":
        server = body.get("server")
        if not isinstance(server, dict):
            return None
        least = _count(server.get("min_count"), 1)
        most = _count(server.get("max_count"), least or 1)
        if least is None or most is None or least < 1 or most < 1:
            return None  # Nova refuses it
        count = max(least, most)
        if count == 1 and not server.get("return_reservation_id"):
            return None
        return Batch(routed, [server], count)
    items = body.get(routed.collection.rsplit("/", 1)[-1])
    if not isinstance(items, list) or not items:
        return None
    objects: list[dict[str, Any]] = []
    for item in items:
        obj = item.get(routed.key, item) if isinstance(item, dict) else None
        if not isinstance(obj, dict):
            return None  # Neutron refuses it
        objects.append(obj)
    return Batch(routed, objects, len(objects))


def begin(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    settings: Settings,
    pool: Pool,
    batch: Batch,
) -> None:
    """Write the batch's ``creating`` records and mark its Neutron objects (in place).
    Every object is charged alike: Neutron's routed kinds their count, a multiple
    create's servers one flavor. Calls the pool (the flavor). Raises QuotaExceeded."""
    routed = batch.routed
    charged = charges(routed=routed, obj=batch.objects[0], pool=pool, settings=settings)
    names = [str(o.get("name") or "") for o in batch.objects]
    with sessions() as db:
        batch.records = record_service.begin_many(
            db=db,
            tenant_id=tenant_of(actor),
            pool_id=pool.id,
            kind=routed.kind,
            names=names * batch.count if routed.kind == "server" else names,
            charges=charged,
        )
    if routed.kind != "server":
        for obj, record in zip(batch.objects, batch.records, strict=True):
            if not obj.get("description"):
                obj["description"] = record_description(record.id)


@dataclass(frozen=True)
class Outcome:
    """What a bulk create made: ``ids`` in record order; with ``complete``, nothing more
    (the records past them are dropped), else the rest is unknown (left ``creating``)."""

    ids: list[str]
    complete: bool


UNKNOWN = Outcome([], complete=False)


def _answered(batch: Batch, answer: dict[str, Any]) -> Outcome:
    """Neutron's bulk answer: the created objects, in request (record) order."""
    objects = answer.get(batch.routed.collection.rsplit("/", 1)[-1])
    if not isinstance(objects, list) or len(objects) != len(batch.records):
        return UNKNOWN
    ids = [o.get("id") if isinstance(o, dict) else None for o in objects]
    known = [i for i in ids if isinstance(i, str)]
    return Outcome(known, complete=True) if len(known) == len(ids) else UNKNOWN


def created(*, batch: Batch, where: Onboarded, status: int | None, answer: Any) -> Outcome:
    """What the pool's answer says the batch created. A multiple create's servers are
    asked of the pool (as admin): never inside a transaction."""
    if status is not None and 400 <= status < 500:
        return Outcome([], complete=True)  # refused: nothing was made
    if status is None or status >= 300 or not isinstance(answer, dict):
        return UNKNOWN
    if batch.routed.kind != "server":
        return _answered(batch, answer)
    first = answer.get("server")
    server_id = first.get("id") if isinstance(first, dict) else None
    reservation = answer.get("reservation_id")
    try:
        found = where.driver.reserved_servers(
            project_id=where.mapping.project_remote_id or "",
            reservation_id=reservation if isinstance(reservation, str) else None,
            server_id=server_id if isinstance(server_id, str) else None,
        )
    except PoolError as e:  # what Nova made beyond the answered server is unknown
        log.info("compat.reservation_unread", pool=where.pool.name, reason=e.detail)
        return Outcome([server_id] if isinstance(server_id, str) else [], complete=False)
    ids = [s.remote_id for s in found]
    if isinstance(server_id, str) and server_id not in ids:
        ids.insert(0, server_id)
    return Outcome(ids[: batch.count], complete=bool(ids))


def finish(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    pool: Pool,
    batch: Batch,
    status: int | None,
    outcome: Outcome,
) -> list[tuple[RoutingRecord, str]]:
    """Settle the batch's records: one activated per created object, the rest dropped
    when the outcome is complete (all of them on a refusal), else left ``creating`` for
    the reconciler. Returns the activated records with their remote ids."""
    done: list[tuple[RoutingRecord, str]] = []
    with sessions() as db:
        for i, kept in enumerate(batch.records):
            record = db.merge(kept)
            if i < len(outcome.ids):
                record_service.activate(db=db, record=record, remote_id=outcome.ids[i])
                _audit(db=db, actor=actor, record=record, pool=pool, action="create")
                done.append((record, outcome.ids[i]))
            elif outcome.complete:
                record_service.discard(db=db, record=record)
            else:
                record.reason = f"outcome unknown: the pool answered {status} through the facade"
        db.commit()
    return done
