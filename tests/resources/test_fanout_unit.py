"""Pool calls: per-pool lanes over one shared, bounded set of threads."""

from __future__ import annotations

import threading
import time

from tenantfusion.pools.models import Pool
from tenantfusion.resources import fanout


def pool(name: str) -> Pool:
    return Pool(id=f"id-{name}", name=name)


def pool_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("pool_"))


def test_a_hanging_pool_holds_only_its_lane() -> None:
    release = threading.Event()
    running: list[str] = []

    def call(p: Pool) -> str:
        running.append(p.name)
        if p.name == "stuck":
            release.wait(10)
        return p.name

    stuck = [pool("stuck")] * 5
    try:
        first = fanout.fan_out(stuck, call, timeout=0.2, concurrency=2)
        assert [a.outcome for a in first] == ["timeout"] * 5
        assert running.count("stuck") == 2  # the lane's 2 slots; the rest waited, then dropped
        other = fanout.fan_out([pool("fine")], call, timeout=2, concurrency=2)
        assert [(a.outcome, a.value) for a in other] == [("ok", "fine")]
    finally:
        release.set()
    time.sleep(0.1)
    assert running.count("stuck") == 2  # the cancelled calls never ran


def test_many_pools_share_bounded_threads() -> None:
    pools = [pool(f"p{i}") for i in range(2000)]
    answers = fanout.fan_out(pools, lambda p: p.name, timeout=30, concurrency=8)
    assert [a.value for a in answers] == [p.name for p in pools]
    assert pool_threads() <= fanout.DEFAULT_THREADS
    assert not fanout._lanes  # idle lanes are dropped


def test_call_pool_raises_what_the_call_raised() -> None:
    def boom() -> None:
        raise ValueError("no")

    try:
        fanout.call_pool(pool("x"), boom, timeout=2)
    except ValueError as e:
        assert str(e) == "no"
    else:
        raise AssertionError("call_pool swallowed the error")
