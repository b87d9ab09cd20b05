"""Merged lists of a tenant's objects of one kind across its pools, keyset-paginated on
the routing records.

A list is read in three parts, so the HTTP route waits for pools without holding a
thread: ``begin`` (database reads, then the pools are asked in their own lanes, in one
worker thread), the answers (``fanout.gather`` on the event loop, or ``fanout.collect``),
and ``merge`` (records in creation order, joined with what the pools said).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Generic

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tenantfusion.config import Settings
from tenantfusion.db import release
from tenantfusion.errors import InvalidInput, NotFound, TenantFusionError
from tenantfusion.mapping.models import Mapping
from tenantfusion.mapping.sessions import tenant_session
from tenantfusion.metrics import LIST_RECORDS
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import aio
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.remote import ListCall, RemoteObject
from tenantfusion.pools.models import Pool
from tenantfusion.resources import fanout, list_cache
from tenantfusion.resources import service as record_service
from tenantfusion.resources.engine import R, ResourceKind, Row, tenant_of
from tenantfusion.resources.fanout import Answer, Deadline, Started
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


Remotes = dict[str, RemoteObject]


@dataclass(frozen=True)
class Listing(Generic[R]):
    """A list under way: the records past the marker, and the pools asked for them."""

    kind: ResourceKind[R]
    query: ListQuery
    records: list[RoutingRecord]
    pools: dict[str, Pool]
    known: list_cache.Known
    asked: Started[Remotes]


def _fetcher(
    *, kind: ResourceKind[R], settings: Settings, mappings: dict[str, Mapping]
) -> Callable[[Pool], Remotes]:
    def fetch(pool: Pool) -> Remotes:
        mapping = mappings.get(pool.id)
        if mapping is None:
            raise NotFound(f"tenant has no active mapping in pool {pool.name}")
        driver = pool_service.driver_for(pool=pool, settings=settings)
        session = tenant_session(mapping=mapping, pool=pool, settings=settings)
        return {o.remote_id: o for o in driver.list_objects(session=session, kind=kind.name)}

    return fetch


def _list_call(
    *, pool: Pool, kind: ResourceKind[R], settings: Settings, mappings: dict[str, Mapping]
) -> ListCall | None:
    """The pool's list as plain GETs for the event loop, when its driver offers one now."""
    mapping = mappings.get(pool.id)
    if mapping is None:
        return None  # the thread path reports it
    try:
        driver = pool_service.driver_for(pool=pool, settings=settings)
        session = tenant_session(mapping=mapping, pool=pool, settings=settings)
        return driver.list_call(session=session, kind=kind.name)
    except TenantFusionError:
        return None  # the thread path meets it again and reports it


async def _remotes(pool: Pool, call: ListCall, concurrency: int) -> Remotes:
    found = await aio.list_objects(pool=pool.name, call=call, concurrency=concurrency)
    return {o.remote_id: o for o in found}


def _on_loop(
    pool: Pool, call: ListCall, settings: Settings, loop: asyncio.AbstractEventLoop
) -> fanout.Pending[Remotes]:
    """``call`` sent from ``loop``: a task of it when this runs on the loop itself, else
    handed to it from this thread."""
    sent = _remotes(pool, call, settings.pool_concurrency)
    try:
        here = asyncio.get_running_loop()
    except RuntimeError:
        here = None
    if here is loop:
        return loop.create_task(sent)
    return asyncio.run_coroutine_threadsafe(sent, loop)


def _deadline(settings: Settings) -> Deadline:
    """How long a list waits for its pools."""
    return Deadline(min(settings.pool_timeout_seconds, settings.operation_deadline_seconds))


def _ask(
    pools: list[Pool],
    *,
    kind: ResourceKind[R],
    settings: Settings,
    mappings: dict[str, Mapping],
    loop: asyncio.AbstractEventLoop | None,
) -> Started[Remotes]:
    """Ask every pool at once. With the event ``loop`` of the request (this runs in one of
    its worker threads), a pool whose driver offers a ``ListCall`` is asked from the loop
    (``pools.aio``: no thread waits for it); the others, and every pool without a loop,
    in their lanes (``fanout``)."""
    fetch = _fetcher(kind=kind, settings=settings, mappings=mappings)
    futures: list[fanout.Pending[Remotes]] = []
    for pool in pools:
        call = None
        if loop is not None:
            call = _list_call(pool=pool, kind=kind, settings=settings, mappings=mappings)
        if loop is not None and call is not None:
            futures.append(_on_loop(pool, call, settings, loop))
        else:
            futures.append(fanout.submit(pool, partial(fetch, pool), settings.pool_concurrency))
    return Started(pools, futures, _deadline(settings))


def _ask_early(
    *,
    tenant_id: str,
    settings: Settings,
    kind: ResourceKind[R],
    query: ListQuery,
    loop: asyncio.AbstractEventLoop,
) -> Started[Remotes] | None:
    """The named pool asked on the event loop before any thread reads the records, from
    the pool and mapping kept by an earlier list (``list_cache.named``): the records are
    then read while it answers. None when nothing is kept or its driver offers no
    ``ListCall`` now. Raises InvalidInput for a bad marker."""
    if query.pool is None:
        return None
    found = list_cache.named(tenant_id=tenant_id, pool_name=query.pool)
    if found is None:
        return None
    if query.marker:
        _after(query.marker)
    pool, mapping = found
    call = _list_call(pool=pool, kind=kind, settings=settings, mappings={pool.id: mapping})
    if call is None:
        return None
    return Started([pool], [_on_loop(pool, call, settings, loop)], _deadline(settings))


def plan(
    *,
    view: list_cache.View,
    settings: Settings,
    kind: ResourceKind[R],
    query: ListQuery,
    loop: asyncio.AbstractEventLoop | None = None,
    early: Started[Remotes] | None = None,
) -> Listing[R]:
    """The tenant's records of ``kind`` past the marker (from ``view``: no database), and
    the pools holding them asked, all at once, each in its own lane, within the
    operation's deadline. ``loop``: the request's event loop (pools are then asked from
    it where their drivers allow, see ``_ask``). ``early``: the named pool, asked already
    (``_ask_early``). Raises InvalidInput for a bad marker."""
    named = view.named
    records = sorted(
        (
            r
            for r in view.known.refs.records
            if r.kind == kind.name and (named is None or r.pool_id == named.id)
        ),
        key=_order,
    )
    if query.marker:
        after = _after(query.marker)
        records = [r for r in records if _order(r) > after]
    pools = view.pools
    asked = [pools[i] for i in sorted({r.pool_id for r in records}, key=lambda i: pools[i].name)]
    if early is not None and [p.id for p in early.pools] == [p.id for p in asked]:
        started = early
    else:
        if early is not None:  # nothing of this kind there past the marker: not wanted
            early.answers()
        started = _ask(asked, kind=kind, settings=settings, mappings=view.mappings, loop=loop)
    return Listing(
        kind=kind, query=query, records=records, pools=pools, known=view.known, asked=started
    )


def begin(
    *,
    db: Session,
    actor: Principal,
    settings: Settings,
    kind: ResourceKind[R],
    query: ListQuery,
    refs: record_service.Refs | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
    early: Started[Remotes] | None = None,
) -> Listing[R]:
    """``plan`` on what the database holds now (``list_cache.read``, which keeps it); the
    transaction ends before the pools are asked (no database connection is held while
    they answer). ``refs``: the tenant's records when the caller has them already (a page
    listing several kinds loads them once). Raises NotFound for an unknown ``pool``,
    InvalidInput for a bad marker."""
    view = list_cache.read(db=db, tenant_id=tenant_of(actor), pool_name=query.pool, refs=refs)
    release(db)  # bulkhead: the pools are asked with no database connection held
    return plan(view=view, settings=settings, kind=kind, query=query, loop=loop, early=early)


def _seen(kind: ResourceKind[R], answers: list[Answer[Remotes]]) -> list[list_cache.Seen]:
    return [(a.pool.id, kind.name, rid) for a in answers if a.value is not None for rid in a.value]


#: built once: parametrizing the generic model looks it up again on every call
_PAGE = ResourcePage[Any]


def merge(listing: Listing[R], answers: list[Answer[Remotes]]) -> ResourcePage[R]:
    """The page: records in creation order whose objects their pools reported (and that
    pass the filters), each pool's outcome in ``pools``. A pool that failed is reported
    and its objects are left out (a partial list, never an error)."""
    query, kind = listing.query, listing.kind
    remotes = {a.pool.id: a.value for a in answers if a.value is not None}
    items: list[R] = []
    last: RoutingRecord | None = None
    more = False
    status = query.status.lower() if query.status else None
    for record in listing.records:
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
        pool = listing.pools[record.pool_id]
        items.append(
            kind.read(Row(record=record, pool=pool, remote=remote, refs=listing.known.refs))
        )
        last = record
    return _PAGE(
        items=items,
        next_marker=_marker(last) if more and last is not None else None,
        pools={a.pool.name: a.outcome for a in answers},
    )


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

    Only pools holding records past the marker are asked. Pages are keyset-paginated on
    the records' (created_at, id), so walking ``next_marker`` neither repeats nor skips an
    object, whichever pools answer. ``refs`` as in ``begin``. (Blocks this thread while the
    pools answer; the HTTP route uses ``list_async``.)
    """
    listing = begin(db=db, actor=actor, settings=settings, kind=kind, query=query, refs=refs)
    return merge(listing, fanout.collect(listing.asked))


def _begin_in(
    sessions: sessionmaker[Session],
    actor: Principal,
    settings: Settings,
    kind: ResourceKind[R],
    query: ListQuery,
    loop: asyncio.AbstractEventLoop,
    early: Started[Remotes] | None,
) -> Listing[R]:
    with sessions() as db:
        return begin(
            db=db, actor=actor, settings=settings, kind=kind, query=query, loop=loop, early=early
        )


async def list_async(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    settings: Settings,
    kind: ResourceKind[R],
    query: ListQuery,
) -> ResourcePage[R]:
    """``list_`` for the event loop. With the tenant's records, mappings and pools kept
    (``list_cache``), the whole list runs on the loop: no thread, no query. Otherwise one
    worker thread reads them and starts the pools' calls, on this loop where it can; the
    loop waits for the answers without holding a thread. A pool that reports an object
    of the tenant's that the kept records do not know (made through another replica a
    moment ago) makes the list read them again."""
    loop = asyncio.get_running_loop()
    tenant_id = tenant_of(actor)
    view = list_cache.cached(tenant_id=tenant_id, pool_name=query.pool)
    early = None
    if view is not None:
        listing = plan(view=view, settings=settings, kind=kind, query=query, loop=loop)
        answers = await fanout.gather(listing.asked)
        if not listing.known.unknown(_seen(kind, answers)):
            LIST_RECORDS.labels(source="kept").inc()
            return merge(listing, answers)
        list_cache.forget_records(tenant_id=tenant_id)
        LIST_RECORDS.labels(source="reread").inc()
    else:
        LIST_RECORDS.labels(source="read").inc()
        early = _ask_early(
            tenant_id=tenant_id, settings=settings, kind=kind, query=query, loop=loop
        )
    try:
        listing = await run_in_threadpool(
            _begin_in, sessions, actor, settings, kind, query, loop, early
        )
    except BaseException:
        if early is not None:
            early.answers()  # not wanted: cancelled
        raise
    answers = await fanout.gather(listing.asked)
    # what the pools listed that has no record even now: not a reason to read again
    listing.known.unrecorded.update(listing.known.unknown(_seen(kind, answers)))
    return merge(listing, answers)
