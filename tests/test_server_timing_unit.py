"""server_timing: the time a request waited for pools is the union of its pool calls'
intervals (calls in parallel count once), sent as ``Server-Timing: pool;dur=``; no header
without a pool call, nothing noted outside a request."""

from __future__ import annotations

import asyncio

from tenantfusion import server_timing


def _header(calls: list[tuple[float, float]]) -> bytes | None:
    token = server_timing.begin()
    try:
        for sent, answered in calls:
            server_timing.note(sent, answered)
        return server_timing.header()
    finally:
        server_timing.end(token)


def test_the_union_of_the_calls() -> None:
    assert _header([]) is None
    assert _header([(1.0, 1.1)]) == b"pool;dur=100.000"
    assert _header([(1.0, 1.1), (1.2, 1.25)]) == b"pool;dur=150.000"  # pages, one by one
    assert _header([(1.0, 1.1), (1.05, 1.2), (1.01, 1.02)]) == b"pool;dur=200.000"  # parallel


def test_calls_in_a_requests_tasks_count_and_nothing_outside_one() -> None:
    async def request() -> bytes | None:
        token = server_timing.begin()
        try:
            await asyncio.gather(
                asyncio.create_task(asyncio.to_thread(lambda: None)),
                asyncio.create_task(_call(2.0, 2.5)),
            )
            return server_timing.header()
        finally:
            server_timing.end(token)

    async def _call(sent: float, answered: float) -> None:
        server_timing.note(sent, answered)

    assert asyncio.run(request()) == b"pool;dur=500.000"
    server_timing.note(1.0, 2.0)  # no request here: ignored
    assert server_timing.header() is None
