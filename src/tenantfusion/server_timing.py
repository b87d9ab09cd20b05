"""How long a request waited for pools, told to its caller in a ``Server-Timing`` header
(W3C Server Timing): ``pool;dur=<ms>``.

Each call sent into a pool from the event loop (``pools.aio.send``: the facade's
pass-through, the lists' pool calls) notes when it was sent and when the pool's answer
(its status and headers) came; ``dur`` is the time at least one of them was waiting,
so calls in parallel count once. A caller subtracting it from what it measured gets
tenantfusion's own time per request, free of the pool's jitter (``bench/bench_facade.py``
does). Pool calls made from worker threads are not noted.
"""

from __future__ import annotations

from contextvars import ContextVar

#: the request's pool calls, (sent, answered) in ``time.perf_counter`` seconds
_calls: ContextVar[list[tuple[float, float]] | None] = ContextVar("pool_calls", default=None)


def begin() -> object:
    """Start noting the pool calls of the request served in this context (and its tasks)."""
    return _calls.set([])


def end(token: object) -> None:
    _calls.reset(token)  # type: ignore[arg-type]


def note(sent: float, answered: float) -> None:
    """One pool call of the current request, if a request is being served."""
    calls = _calls.get()
    if calls is not None:
        calls.append((sent, answered))


def header() -> bytes | None:
    """The ``Server-Timing`` value for the calls noted so far, or None when there were
    none: the length of the union of their intervals, in milliseconds."""
    calls = _calls.get()
    if not calls:
        return None
    waited, reached = 0.0, float("-inf")
    for sent, answered in sorted(calls):
        start = max(sent, reached)
        if answered > start:
            waited += answered - start
            reached = answered
    return f"pool;dur={waited * 1000:.3f}".encode()
