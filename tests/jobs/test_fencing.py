"""Leases of jobs on both databases: a heartbeat keeps a slow job's lease, so a second
worker never runs it at once; without a heartbeat the second worker takes over and the
first one's late writes are fenced out; deadlines end retries; the leader lease."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.db import session_factory, utcnow
from tenantfusion.errors import PoolError
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs import worker
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.jobs.registry import JobContext, handler
from tenantfusion.platform.principal import SYSTEM
from tenantfusion.reconciler import lease
from tests.conftest import make_settings

SLOW = "test.slow"
RUNS: list[tuple[str, int, float, float]] = []  # (owner, attempt, start, end)
_runs_lock = threading.Lock()


@handler(SLOW)
def slow(ctx: JobContext) -> dict[str, Any]:
    """Sleeps ``payload.seconds`` on its first attempt, returns at once afterwards."""
    start = time.monotonic()
    if ctx.job.attempts == 1:
        time.sleep(ctx.job.payload["seconds"])
    end = time.monotonic()
    with _runs_lock:
        RUNS.append((ctx.job.lease_owner or "", ctx.job.attempts, start, end))
    return {"owner": ctx.job.lease_owner, "attempt": ctx.job.attempts}


@pytest.fixture
def short_lease(settings: Settings, tmp_path: Any) -> Settings:
    return make_settings(settings.database_url, tmp_path, lease_seconds=1.0)


def _enqueue(sessions: sessionmaker[Session], **payload: Any) -> str:
    with sessions() as db:
        job = job_service.enqueue(
            db=db, actor=SYSTEM, kind=SLOW, payload=payload, tenant_id=None, total_steps=1
        )
        db.commit()
        return job.id


def _run_in_thread(sessions: sessionmaker[Session], settings: Settings, owner: str) -> Any:
    done: dict[str, bool] = {}
    thread = threading.Thread(
        target=lambda: done.setdefault(
            "ran", worker.run_one(sessions=sessions, settings=settings, owner=owner)
        )
    )
    thread.start()
    return thread, done


def test_heartbeat_keeps_a_slow_job_from_a_second_worker(short_lease: Settings) -> None:
    sessions = session_factory(short_lease)
    RUNS.clear()
    job_id = _enqueue(sessions, seconds=3.5)
    first, done = _run_in_thread(sessions, short_lease, "worker-a")
    time.sleep(1.8)  # the lease (1 s) would have run out without the heartbeat
    with sessions() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.state is JobState.running
        assert job.lease_owner == "worker-a" and job.lease_expires_at > utcnow()
    assert worker.run_one(sessions=sessions, settings=short_lease, owner="worker-b") is False
    time.sleep(0.8)
    assert worker.run_one(sessions=sessions, settings=short_lease, owner="worker-b") is False
    first.join(timeout=20)
    assert done == {"ran": True}
    with sessions() as db:
        job = db.get(Job, job_id)
        assert job is not None
        assert job.state is JobState.succeeded and job.attempts == 1
        assert job.result == {"owner": "worker-a", "attempt": 1}
        assert job.lease_owner is None and job.lease_generation == 1
    assert [r[0] for r in RUNS] == ["worker-a"]


def test_without_heartbeat_the_late_worker_is_fenced_out(
    short_lease: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: no heartbeat → the second worker takes the job after the lease; the
    first one finishes later and must not overwrite the job (state, result, attempts)."""

    @contextmanager
    def no_heartbeat(**_: Any) -> Iterator[None]:
        yield

    monkeypatch.setattr(worker, "Heartbeat", no_heartbeat)
    sessions = session_factory(short_lease)
    RUNS.clear()
    job_id = _enqueue(sessions, seconds=3.0)
    first, done = _run_in_thread(sessions, short_lease, "worker-a")
    time.sleep(1.6)
    assert worker.run_one(sessions=sessions, settings=short_lease, owner="worker-b") is True
    with sessions() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.state is JobState.succeeded
        assert job.result == {"owner": "worker-b", "attempt": 2}
    first.join(timeout=20)
    assert done == {"ran": True}
    with sessions() as db:
        job = db.get(Job, job_id, populate_existing=True)
        assert job is not None
        assert job.state is JobState.succeeded and job.result["owner"] == "worker-b"
        assert job.lease_generation == 2
    (a,) = [r for r in RUNS if r[0] == "worker-a"]
    (b,) = [r for r in RUNS if r[0] == "worker-b"]
    assert b[2] < a[3]  # they did overlap: exactly what the heartbeat prevents


FLAKY = "test.flaky"


@handler(FLAKY)
def flaky(ctx: JobContext) -> dict[str, Any]:
    raise PoolError("pool says no", pool="nowhere")


def test_deadline_ends_retries(settings: Settings) -> None:
    sessions = session_factory(settings)
    with sessions() as db:
        job = job_service.enqueue(
            db=db,
            actor=SYSTEM,
            kind=FLAKY,
            payload={},
            tenant_id=None,
            max_attempts=100,
            deadline_seconds=30,
        )
        db.commit()
        job_id = job.id
    assert worker.run_pending(sessions=sessions, settings=settings) == 1
    with sessions() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.state is JobState.queued and job.attempts == 1
        job.deadline_at = utcnow() - timedelta(seconds=1)
        job.run_after = utcnow()
        db.commit()
    assert worker.run_pending(sessions=sessions, settings=settings) == 1
    with sessions() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.state is JobState.failed
        assert job.error.startswith("deadline passed after 2 attempt(s): pool says no")


def test_leader_lease_one_holder(settings: Settings) -> None:
    sessions = session_factory(settings)
    with sessions() as db:
        assert lease.acquire(db=db, name="loop", owner="a", seconds=30)
        assert not lease.acquire(db=db, name="loop", owner="b", seconds=30)
        assert lease.acquire(db=db, name="loop", owner="a", seconds=0.2)  # renew, shorter
    time.sleep(0.4)
    with sessions() as db:
        assert lease.acquire(db=db, name="loop", owner="b", seconds=30)  # a's ran out
        assert not lease.acquire(db=db, name="loop", owner="a", seconds=30)
        lease.release(db=db, name="loop", owner="b")
        assert lease.acquire(db=db, name="loop", owner="a", seconds=30)


WAIT = "test.wait"
GATE = threading.Event()
STARTED: list[str] = []


@handler(WAIT)
def wait_for_gate(ctx: JobContext) -> dict[str, Any]:
    """Holds its worker thread until the test opens the gate (a pool that hangs)."""
    STARTED.append(ctx.job.payload["name"])
    if ctx.job.payload.get("hang"):
        assert GATE.wait(timeout=30)
    return {}


def test_a_hanging_pool_never_holds_every_worker_thread(settings: Settings) -> None:
    slow_settings = settings.model_copy(update={"worker_threads": 2})
    sessions = session_factory(slow_settings)
    GATE.clear()
    STARTED.clear()
    ids = {}
    with sessions() as db:
        for name, pool, hang in (
            ("a1", "pool-a", True),
            ("a2", "pool-a", True),
            ("b1", "pool-b", False),
        ):
            job = job_service.enqueue(
                db=db,
                actor=SYSTEM,
                kind=WAIT,
                payload={"name": name, "hang": hang},
                tenant_id=None,
                pool_id=pool,
            )
            ids[name] = job.id
            db.commit()
            time.sleep(0.01)  # a1 is the oldest, then a2, then b1
    runner = worker.Worker(sessions=sessions, settings=slow_settings, interval=0.05)
    assert runner.per_pool == 1
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while "b1" not in STARTED or "a1" not in STARTED:
            assert time.monotonic() < deadline, STARTED
            time.sleep(0.05)
        time.sleep(0.5)
        assert sorted(STARTED) == ["a1", "b1"]  # a2 waits: pool-a may hold one of two threads
        with sessions() as db:
            assert db.get(Job, ids["b1"]).state is JobState.succeeded  # type: ignore[union-attr]
            assert db.get(Job, ids["a2"]).state is JobState.queued  # type: ignore[union-attr]
        GATE.set()
        while "a2" not in STARTED:
            assert time.monotonic() < deadline, STARTED
            time.sleep(0.05)
    finally:
        GATE.set()
        runner.stop()
        runner.join(timeout=20)
    with sessions() as db:
        states = {n: db.get(Job, i).state for n, i in ids.items()}  # type: ignore[union-attr]
    assert states == dict.fromkeys(ids, JobState.succeeded)


def test_idle_threads_leave_polling_to_one_and_a_queue_still_uses_them_all(
    settings: Settings,
) -> None:
    """Four idle threads poll as one: claims per interval, counted as statements the
    database really received (every thread polled: 4 claims + 4 depth counts each time).
    Then four slow jobs still start together, one per thread."""
    from sqlalchemy import event

    from tenantfusion.db import engine_for

    four = settings.model_copy(update={"worker_threads": 4})
    sessions = session_factory(four)
    engine = engine_for(four.resolved_database_url)
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM job " in statement or "FROM job\n" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    runner = worker.Worker(sessions=sessions, settings=four, interval=0.1)
    runner.start()
    try:
        time.sleep(1.05)
        idle = len(seen)
        RUNS.clear()
        for _ in range(4):
            _enqueue(sessions, seconds=0.6)
        deadline = time.monotonic() + 20
        while len(RUNS) < 4:
            assert time.monotonic() < deadline, RUNS
            time.sleep(0.05)
    finally:
        runner.stop()
        runner.join(timeout=20)
        event.remove(engine, "before_cursor_execute", count)
    assert 5 <= idle <= 14, idle  # ~10 claims + 1 depth count; every thread polling: ~80
    starts = sorted(start for _, _, start, _ in RUNS)
    assert starts[-1] - starts[0] < 0.5, starts  # all four ran at once (each sleeps 0.6 s)
    assert len({owner for owner, _, _, _ in RUNS}) == 4
