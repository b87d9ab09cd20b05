"""Calls into pools, bulkheaded: each pool has its own lane, every wait has a deadline.

A lane runs at most ``concurrency`` calls into its pool at once; more wait in that lane's
queue, not in the shared threads. So a pool that hangs holds only its own lane's few
threads: other pools' calls never queue behind it, and the caller gives up at its deadline
(a call still queued then is cancelled; one already running ends at the pool session's
own timeout). A pool that errors or does not answer in time is reported, never waited for
past the deadline and never allowed to fail a merged call.

Lanes are bookkeeping only: every call runs on one shared, bounded set of threads
(``pool_call_threads``), reused across pools, so asking 16 of 10,000 pools starts no
thread, and 10,000 pools never mean 10,000 idle threads. Only if more pools than
``pool_call_threads / pool_concurrency`` hang at once do other pools' calls wait for a
thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

import structlog

from tenantfusion.errors import PoolTimeout, PoolUnreachable, TenantFusionError
from tenantfusion.pools.models import Pool

log = structlog.get_logger(__name__)

T = TypeVar("T")

DEFAULT_CONCURRENCY = 8
#: Threads shared by every lane, unless ``configure`` sets another number.
DEFAULT_THREADS = 128

Task = tuple[Future[Any], Callable[[], Any]]


@dataclass
class _Lane:
    """One pool's calls: how many run now, and those waiting for a slot."""

    running: int = 0
    waiting: deque[Task] = field(default_factory=deque)


_lock = threading.Lock()
_lanes: dict[str, _Lane] = {}
_threads = DEFAULT_THREADS
_executor: ThreadPoolExecutor | None = None


def configure(*, threads: int) -> None:
    """Set the number of shared threads (before the first call into a pool)."""
    global _threads
    _threads = max(1, threads)


def _shared() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        with _lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="pool")
    return _executor


def _drain(pool_id: str, lane: _Lane, task: Task) -> None:
    """Run ``task``, then the lane's waiting calls, on this shared thread; give the
    lane's slot back when none is left."""
    while True:
        future, call = task
        if future.set_running_or_notify_cancel():  # False: cancelled while queued
            try:
                result = call()
            except BaseException as e:  # noqa: BLE001 - handed to the caller's future
                future.set_exception(e)
            else:
                future.set_result(result)
        with _lock:
            if not lane.waiting:
                lane.running -= 1
                if lane.running == 0 and _lanes.get(pool_id) is lane:
                    del _lanes[pool_id]  # idle lanes of 10,000 pools cost nothing
                return
            task = lane.waiting.popleft()


def submit(pool: Pool, call: Callable[[], T], concurrency: int) -> Future[T]:
    """``call()`` in ``pool``'s lane: started on a shared thread when the lane has a free
    slot, else queued in the lane."""
    future: Future[T] = Future()
    task: Task = (future, call)
    with _lock:
        lane = _lanes.setdefault(pool.id, _Lane())
        start = lane.running < max(1, concurrency)
        if start:
            lane.running += 1
        else:
            lane.waiting.append(task)
    if start:
        _shared().submit(_drain, pool.id, lane, task)
    return future


class Deadline:
    """The time an operation may still spend waiting for pools."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self, cap: float | None = None) -> float:
        """Seconds left (never negative), at most ``cap``."""
        left = max(0.0, self._end - time.monotonic())
        return left if cap is None else min(left, cap)


@dataclass(frozen=True)
class Answer(Generic[T]):
    pool: Pool
    #: ``ok``, ``timeout``, ``unavailable`` (unreachable) or ``error``.
    outcome: str
    value: T | None = None
    detail: str = ""


def _outcome(error: BaseException) -> str:
    if isinstance(error, PoolTimeout):
        return "timeout"
    return "unavailable" if isinstance(error, PoolUnreachable) else "error"


#: A call under way: in a lane (a thread's future), or on the event loop that waits for it
#: (its task: no thread, nor a thread-safe hand-off, between them).
Pending = Future[T] | asyncio.Future[T]


def _answer(pool: Pool, future: Pending[T]) -> Answer[T]:
    error = future.exception()
    if error is None:
        return Answer(pool, "ok", future.result())
    if isinstance(error, TenantFusionError):
        return Answer(pool, _outcome(error), detail=error.detail)
    log.error("fanout.unexpected", pool=pool.name, error=type(error).__name__)
    return Answer(pool, "error", detail=type(error).__name__)


@dataclass(frozen=True)
class Started(Generic[T]):
    """Calls into pools under way (``start``), answered by ``collect`` or ``gather``."""

    pools: Sequence[Pool]
    futures: Sequence[Pending[T]]
    deadline: Deadline

    def answers(self) -> list[Answer[T]]:
        """Each pool's answer now (a call not finished yet: ``timeout``), in pool order;
        calls still queued or running are dropped: their answers are no longer wanted
        (a running one ends at the pool session's own timeout)."""
        try:
            return [
                _answer(pool, future)
                if future.done()
                else Answer(pool, "timeout", detail=f"no answer in {self.deadline.seconds:g} s")
                for pool, future in zip(self.pools, self.futures, strict=True)
            ]
        finally:
            for future in self.futures:
                future.cancel()


def start(
    pools: Sequence[Pool],
    call: Callable[[Pool], T],
    *,
    timeout: float,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Started[T]:
    """Submit ``call(pool)`` for every pool at once, each in its pool's lane; the answers
    are wanted within ``timeout`` seconds from now."""
    deadline = Deadline(timeout)
    return Started(pools, [submit(p, partial(call, p), concurrency) for p in pools], deadline)


def collect(started: Started[T]) -> list[Answer[T]]:
    """Wait (blocking this thread) until every call answered or the deadline passed (the
    calls of a thread: none is an event loop's task)."""
    threads = [f for f in started.futures if isinstance(f, Future)]
    if len(threads) != len(started.futures):
        raise TypeError("an event loop's calls are gathered on it (gather), not collected")
    if threads:
        wait(threads, timeout=started.deadline.remaining())
    return started.answers()


async def gather(started: Started[T]) -> list[Answer[T]]:
    """``collect`` for the event loop: it waits without holding a thread."""
    waiting = [
        f if isinstance(f, asyncio.Future) else asyncio.wrap_future(f) for f in started.futures
    ]
    try:
        if waiting:
            await asyncio.wait(waiting, timeout=started.deadline.remaining())
        return started.answers()
    finally:
        for w in waiting:
            if w.done() and not w.cancelled():
                w.exception()  # retrieved here: the Answer carries it
            else:
                w.cancel()


def fan_out(
    pools: Sequence[Pool],
    call: Callable[[Pool], T],
    *,
    timeout: float,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[Answer[T]]:
    """``call(pool)`` for every pool at once, each in its pool's lane; answers in the order
    of ``pools``, waiting at most ``timeout`` seconds in all."""
    return collect(start(pools, call, timeout=timeout, concurrency=concurrency))


def call_pool(
    pool: Pool, call: Callable[[], T], *, timeout: float, concurrency: int = DEFAULT_CONCURRENCY
) -> T:
    """``call()`` in ``pool``'s lane, waiting at most ``timeout`` seconds. Raises what the
    call raised, or PoolTimeout."""
    future = submit(pool, call, concurrency)
    done, _ = wait([future], timeout=timeout)
    if future not in done:
        future.cancel()
        raise PoolTimeout(f"pool {pool.name} did not answer within {timeout:g} s", pool=pool.name)
    return future.result()
