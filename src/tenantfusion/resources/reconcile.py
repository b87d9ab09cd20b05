"""Reconcile routing records with what a pool really holds.

Every object tenantfusion creates, through ``/v1`` or the facade, carries ``tenantfusion
<record id>`` (description, or a server's ``tf_record`` metadata), written in the create
call itself. So after a crash between
the pool's create and the record's activation, the object is found again:

- a ``creating`` record older than the lease whose object exists → activated (adopted);
  with no object → dropped (the create never happened);
- an ``active`` record whose object is gone (and which has not changed for the grace
  period, ``missing_grace_seconds``) → marked ``missing_since`` and reported ``missing``;
  its object seen again → the mark is cleared;
- an object naming a record that does not exist → reported ``unrouted`` (left for an
  operator: deleting a tenant's object is not reconcile's call).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.db import release, utcnow
from tenantfusion.errors import TenantFusionError
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.models import MappingState
from tenantfusion.mapping.sessions import tenant_session
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.remote import Kind, RemoteObject
from tenantfusion.pools.models import Pool
from tenantfusion.resources.models import RecordState, RoutingRecord

MARK = "tenantfusion "
SERVICE_OF = {"server": "compute", "volume": "block-storage"}


def _record_id(obj: RemoteObject) -> str | None:
    return obj.description.removeprefix(MARK) if obj.description.startswith(MARK) else None


def settle(*, db: Session, record: RoutingRecord, objects: list[RemoteObject]) -> str:
    """Finish an interrupted create: adopt the object carrying the record's id, or drop
    the record when the pool has none. Returns ``adopted`` or ``dropped`` (not committed)."""
    found = next((o for o in objects if _record_id(o) == record.id), None)
    if found is None:
        db.delete(record)
        return "dropped"
    record.remote_id, record.state = found.remote_id, RecordState.active
    return "adopted"


def reconcile_records(*, db: Session, pool: Pool, settings: Settings) -> dict[str, Any]:
    """Repair and report the routing records of every tenant mapped in ``pool`` (commits)."""
    report: dict[str, list[dict[str, Any]]] = {
        "adopted": [],
        "dropped": [],
        "missing": [],
        "unrouted": [],
        "failed": [],
    }
    now = utcnow()
    stale = now - timedelta(seconds=settings.lease_seconds)
    settled = now - timedelta(seconds=settings.missing_grace_seconds)
    driver = pool_service.driver_for(pool=pool, settings=settings)
    kinds = [k for k in get_args(Kind) if SERVICE_OF.get(k, "network") in pool.services]
    for mapping in mapping_service.list_for_pool(db=db, pool_id=pool.id):
        if mapping.state is not MappingState.active:
            continue
        session = tenant_session(mapping=mapping, pool=pool, settings=settings)
        records = {
            r.id: r
            for r in db.scalars(
                select(RoutingRecord).where(
                    RoutingRecord.pool_id == pool.id,
                    RoutingRecord.tenant_id == mapping.tenant_id,
                )
            )
        }
        for kind in kinds:
            release(db)  # no transaction stays open while the pool is asked
            try:
                objects = driver.list_objects(session=session, kind=kind)
            except TenantFusionError as e:
                report["failed"].append(
                    {"tenant_id": mapping.tenant_id, "kind": kind, "reason": e.detail}
                )
                continue
            remote_ids = {o.remote_id for o in objects}
            for obj in objects:
                record_id = _record_id(obj)
                if record_id and record_id not in records:
                    report["unrouted"].append(
                        {"tenant_id": mapping.tenant_id, "kind": kind, "remote_id": obj.remote_id}
                    )
            for record in records.values():
                if record.kind != kind:
                    continue
                if record.state is RecordState.creating and record.created_at < stale:
                    outcome = settle(db=db, record=record, objects=objects)
                    entry = {"id": record.id, "kind": kind}
                    if outcome == "adopted":
                        entry["remote_id"] = record.remote_id
                    report[outcome].append(entry)
                elif record.state is RecordState.active and record.remote_id not in remote_ids:
                    if record.missing_since or record.updated_at < settled:
                        record.missing_since = record.missing_since or now
                        report["missing"].append(
                            {
                                "id": record.id,
                                "kind": kind,
                                "remote_id": record.remote_id,
                                "missing_since": record.missing_since.isoformat(),
                            }
                        )
                elif record.missing_since is not None:
                    record.missing_since = None  # the object is back
        db.commit()
    return report
