"""What a routed facade request leaves behind once the pool answered: the create's record
finished (or dropped), a delete's record marked deleted, a bulk create's records each
finished, and each new object given its record's tag where the pool takes one
(``records.follow_up``, best effort)."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from tenantfusion.compat import bulk, records
from tenantfusion.compat.upstream import Upstream
from tenantfusion.deps import get_app_settings, get_sessions
from tenantfusion.errors import PoolUnreachable
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import aio

log = structlog.get_logger(__name__)


async def answered(
    *,
    request: Request,
    caller: Principal,
    up: Upstream,
    routed: records.Routed | None,
    record: Any,
    batch: bulk.Batch | None,
    status: int | None,
    raw: bytes,
) -> None:
    """The pool answered a routed request (``routed``; a bulk create: ``batch``) with
    ``status`` and ``raw``; ``status`` None: the pool was unreachable."""
    if batch is not None:
        await _bulk(request=request, caller=caller, up=up, batch=batch, status=status, raw=raw)
    elif routed is not None:
        await _single(
            request=request,
            caller=caller,
            up=up,
            routed=routed,
            record=record,
            status=status,
            raw=raw,
        )


async def _single(
    *,
    request: Request,
    caller: Principal,
    up: Upstream,
    routed: records.Routed,
    record: Any,
    status: int | None,
    raw: bytes,
) -> None:
    """A delete's record marked deleted (also when the pool says 404), a create's record
    finished (given back when the pool was unreachable or refused) and tagged."""
    sessions, settings = get_sessions(request), get_app_settings(request)
    pool = up.where.pool
    if routed.remote_id is not None:
        if status is not None and (status < 300 or status == 404):
            await run_in_threadpool(
                records.deleted,
                sessions=sessions,
                actor=caller,
                settings=settings,
                pool=pool,
                routed=routed,
            )
        return
    if record is None:
        return
    remote_id = await run_in_threadpool(
        records.finish,
        sessions=sessions,
        actor=caller,
        pool=pool,
        record=record,
        routed=routed,
        status=status,
        answer=records.json_body(raw),
    )
    if remote_id is not None:
        await _follow_up(up, routed, record, remote_id)


async def _bulk(
    *,
    request: Request,
    caller: Principal,
    up: Upstream,
    batch: bulk.Batch,
    status: int | None,
    raw: bytes,
) -> None:
    """Each record of a bulk create finished with what the pool made, or given back, and
    the objects made tagged."""
    outcome = await run_in_threadpool(
        bulk.created, batch=batch, where=up.where, status=status, answer=records.json_body(raw)
    )
    done = await run_in_threadpool(
        bulk.finish,
        sessions=get_sessions(request),
        actor=caller,
        pool=up.where.pool,
        batch=batch,
        status=status,
        outcome=outcome,
    )
    for record, remote_id in done:
        await _follow_up(up, batch.routed, record, remote_id)


async def _follow_up(up: Upstream, routed: records.Routed, record: Any, remote_id: str) -> None:
    """Finish a routed create with ``records.follow_up`` (best effort: a pool without
    tags keeps the description's mark)."""
    pool = up.where.pool
    follow = records.follow_up(routed=routed, record=record, remote_id=remote_id)
    if follow is None:
        return
    try:
        answer = await aio.send(
            pool=pool.name,
            method="PUT",
            url=f"{up.root}/{follow}",
            headers={"x-auth-token": up.token},
            content=b"",
        )
        await aio.read(answer, pool=pool.name)
        if answer.status >= 300:
            log.info(
                "compat.follow_up_skipped",
                pool=pool.name,
                kind=routed.kind,
                status=answer.status,
            )
    except PoolUnreachable:
        log.info("compat.follow_up_skipped", pool=pool.name, kind=routed.kind, status=None)
