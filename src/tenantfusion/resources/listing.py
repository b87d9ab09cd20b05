"""Merged lists: a tenant's objects of one kind across its pools, in creation order, with
keyset pagination on the records' (created_at, id) that holds whichever pools answer."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.db import release
from tenantfusion.errors import InvalidInput, NotFound
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.models import MappingState
from tenantfusion.mapping.sessions import tenant_session
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.remote import RemoteObject
from tenantfusion.pools.models import Pool
from tenantfusion.resources import service as record_service
from tenantfusion.resources.engine import R, ResourceKind, Row, tenant_of
from tenantfusion.resources.fanout import fan_out
from tenantfusion.resources.models import RoutingRecord
from tenantfusion.resources.schemas import ListQuery, ResourcePage


def _marker(record: RoutingRecord) -> str:
    raw = json.dumps([record.created_at.isoformat(), record.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(marker: str) -> tuple[datetime, str]:
    try:
        created, record_id = json.loads(base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)))
        at = datetime.fromisoformat(created)
        if at.tzinfo is None or not isinstance(record_id, str):
            raise ValueError("naive time or non-string id")
        return at, record_id
    except (ValueError, TypeError, binascii.Error, RecursionError) as e:
        raise InvalidInput("marker is not a next_marker from this API", field="marker") from e


def _order(record: RoutingRecord) -> tuple[datetime, str]:
    return record.created_at, record.id


def list_(
    *,
    db: Session,
    actor: Principal,
    settings: Settings,
    kind: ResourceKind[R],
    query: ListQuery,
    refs: record_service.Refs | None = None,
) -> ResourcePage[R]:
    """The tenant's objects of ``kind`` across its pools, in creation order.

    Only pools holding records past the marker are asked, all at once, in their own lanes,
    within the operation's deadline, with no database connection held. A pool that fails
    is reported in ``pools`` and its objects are left out (a partial list, never an
    error). Pages are keyset-paginated on the
    records' (created_at, id), so walking ``next_marker`` neither repeats nor skips an
    object, whichever pools answer. ``refs``: the tenant's records when the caller has
    them already (a page listing several kinds loads them once). Raises NotFound for an
    unknown ``query.pool``, InvalidInput for a bad marker.
    """
    tenant_id = tenant_of(actor)
    if refs is None:
        refs = record_service.refs(db=db, tenant_id=tenant_id)
    if query.pool is not None:
        named = pool_service.get(db=db, ref=query.pool)
        if named is None or named.name != query.pool:
            raise NotFound(f"pool {query.pool} not found")
    # only the pools the tenant has records in (not every registered pool)
    in_use = sorted({r.pool_id for r in refs.records})
    pools = {p.id: p for p in pool_service.by_ids(db=db, ids=in_use)}
    records = sorted(
        (
            r
            for r in refs.records
            if r.kind == kind.name and (query.pool is None or pools[r.pool_id].name == query.pool)
        ),
        key=_order,
    )
    if query.marker:
        after = _after(query.marker)
        records = [r for r in records if _order(r) > after]
    mappings = {
        m.pool_id: m
        for m in mapping_service.list_for_tenant(db=db, tenant_id=tenant_id)
        if m.state is MappingState.active
    }
    asked = [
        pools[pid] for pid in sorted({r.pool_id for r in records}, key=lambda i: pools[i].name)
    ]

    def fetch(pool: Pool) -> dict[str, RemoteObject]:
        mapping = mappings.get(pool.id)
        if mapping is None:
            raise NotFound(f"tenant has no active mapping in pool {pool.name}")
        driver = pool_service.driver_for(pool=pool, settings=settings)
        session = tenant_session(mapping=mapping, pool=pool, settings=settings)
        return {o.remote_id: o for o in driver.list_objects(session=session, kind=kind.name)}

    release(db)  # bulkhead: the pools are asked with no database connection held
    answers = fan_out(
        asked,
        fetch,
        timeout=min(settings.pool_timeout_seconds, settings.operation_deadline_seconds),
        concurrency=settings.pool_concurrency,
    )
    outcome = {a.pool.name: a.outcome for a in answers}
    remotes = {a.pool.id: a.value for a in answers if a.value is not None}
    items: list[R] = []
    last: RoutingRecord | None = None
    more = False
    status = query.status.lower() if query.status else None
    for record in records:
        remote = remotes.get(record.pool_id, {}).get(record.remote_id or "")
        if remote is None:  # its pool failed, or the object is gone (reconcile's job)
            continue
        if query.name is not None and remote.name != query.name:
            continue
        if status is not None and remote.status.lower() != status:
            continue
        if len(items) == query.limit:
            more = True
            break
        items.append(
            kind.read(Row(record=record, pool=pools[record.pool_id], remote=remote, refs=refs))
        )
        last = record
    return ResourcePage[Any](
        items=items,
        next_marker=_marker(last) if more and last is not None else None,
        pools=outcome,
    )
