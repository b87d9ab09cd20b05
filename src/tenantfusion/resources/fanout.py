"""Ask several pools the same question in parallel, each bounded by the pool timeout.

A pool that errors or does not answer in time is reported, never waited for past the
bound and never allowed to fail the whole call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog

from tenantfusion.errors import PoolUnreachable, TenantFusionError
from tenantfusion.pools.models import Pool

log = structlog.get_logger(__name__)

T = TypeVar("T")

#: Shared by every request: no thread start-up per list. A hung pool holds a worker only
#: until its session timeout.
_EXECUTOR = ThreadPoolExecutor(max_workers=64, thread_name_prefix="fanout")


@dataclass(frozen=True)
class Answer(Generic[T]):
    pool: Pool
    #: ``ok``, ``timeout``, ``unavailable`` (unreachable) or ``error``.
    outcome: str
    value: T | None = None
    detail: str = ""


def _outcome(error: BaseException) -> str:
    return "unavailable" if isinstance(error, PoolUnreachable) else "error"


def fan_out(pools: Sequence[Pool], call: Callable[[Pool], T], *, timeout: float) -> list[Answer[T]]:
    """``call(pool)`` for every pool at once; answers in the order of ``pools``."""
    if not pools:
        return []
    if len(pools) == 1:  # no thread hop for the common single-pool tenant
        try:
            return [Answer(pools[0], "ok", call(pools[0]))]
        except TenantFusionError as e:
            return [Answer(pools[0], _outcome(e), detail=e.detail)]
    futures = [_EXECUTOR.submit(call, p) for p in pools]
    try:
        done, _ = wait(futures, timeout=timeout)
        answers: list[Answer[T]] = []
        for pool, future in zip(pools, futures, strict=True):
            if future not in done:
                answers.append(Answer(pool, "timeout", detail=f"no answer in {timeout:g} s"))
                continue
            error = future.exception()
            if error is None:
                answers.append(Answer(pool, "ok", future.result()))
            elif isinstance(error, TenantFusionError):
                answers.append(Answer(pool, _outcome(error), detail=error.detail))
            else:
                log.error("fanout.unexpected", pool=pool.name, error=type(error).__name__)
                answers.append(Answer(pool, "error", detail=type(error).__name__))
        return answers
    finally:
        # never wait for a pool that still hangs: its answer is no longer wanted (its
        # worker is freed by the session's own timeout)
        for future in futures:
            future.cancel()
