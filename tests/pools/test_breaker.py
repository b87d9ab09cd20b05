"""The per-pool circuit breaker: opens after a run of unreachable calls, fails fast, lets
one trial through after the cool-down, closes on success; visible in /metrics."""

from __future__ import annotations

import time

import pytest
from keystoneauth1 import exceptions as ksa_exc
from prometheus_client import generate_latest

from tenantfusion.errors import PoolError, PoolUnreachable
from tenantfusion.pools import breaker
from tenantfusion.pools.drivers.openstack_errors import translate


def _unreachable(pool: str) -> None:
    with pytest.raises(PoolUnreachable), translate(pool, "probe"):
        raise ksa_exc.ConnectFailure("refused")


def test_opens_fails_fast_then_half_opens_and_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(breaker, "OPEN_SECONDS", 0.2)
    pool = "breaker-test"
    breaker.reset(pool)
    for _ in range(breaker.FAILURES_TO_OPEN):
        _unreachable(pool)
    assert breaker.state(pool) == breaker.OPEN
    assert 'tenantfusion_pool_breaker_state{pool="breaker-test"} 2.0' in generate_latest().decode()
    ran = []
    with pytest.raises(PoolUnreachable, match="circuit open"), translate(pool, "probe"):
        ran.append(1)  # never reached: fails before the call
    assert ran == []
    time.sleep(0.25)
    with translate(pool, "probe"):  # the half-open trial goes through and succeeds
        ran.append(1)
    assert ran == [1] and breaker.state(pool) == breaker.CLOSED
    assert 'tenantfusion_pool_breaker_state{pool="breaker-test"} 0.0' in generate_latest().decode()


def test_a_failed_trial_reopens_and_other_answers_keep_it_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(breaker, "OPEN_SECONDS", 0.1)
    pool = "breaker-test-2"
    breaker.reset(pool)
    _unreachable(pool)
    _unreachable(pool)
    with pytest.raises(PoolUnreachable), translate(pool, "probe"):
        raise ksa_exc.HttpError("boom", http_status=503)
    assert breaker.state(pool) == breaker.OPEN
    time.sleep(0.15)
    _unreachable(pool)  # the trial fails: open again
    assert breaker.state(pool) == breaker.OPEN
    breaker.reset(pool)
    _unreachable(pool)
    with pytest.raises(Exception), translate(pool, "probe"):  # noqa: B017
        raise ksa_exc.NotFound("gone")  # an answer: the pool is reachable
    _unreachable(pool)
    _unreachable(pool)
    assert breaker.state(pool) == breaker.CLOSED


def test_a_500_and_slow_answers_open_it_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(breaker, "SLOW_SECONDS", 0.05)
    pool = "breaker-test-3"
    breaker.reset(pool)
    with pytest.raises(PoolError), translate(pool, "probe"):
        raise ksa_exc.HttpError("boom", http_status=500)
    for _ in range(breaker.FAILURES_TO_OPEN - 1):
        with translate(pool, "probe"):
            time.sleep(0.06)  # an answer, but too late to count as one
    assert breaker.state(pool) == breaker.OPEN
    breaker.reset(pool)
    with translate(pool, "probe"):
        pass  # a fast answer keeps it closed
    assert breaker.state(pool) == breaker.CLOSED


def test_a_cached_step_before_each_call_does_not_keep_a_slow_pool_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each tenant call first gets its service adapter (``closes=False``: usually from the
    connection's cache). Its success between slow calls must not wipe their failures (it
    did: a pool answering too late for every caller then never opened its circuit)."""
    monkeypatch.setattr(breaker, "OPEN_SECONDS", 0.2)
    pool = "breaker-test-cached-step"
    breaker.reset(pool)
    for _ in range(breaker.FAILURES_TO_OPEN):
        with translate(pool, "connect_compute", closes=False):
            pass
        _unreachable(pool)
    assert breaker.state(pool) == breaker.OPEN
    with pytest.raises(PoolUnreachable, match="circuit open"):  # the step fails fast too
        with translate(pool, "connect_compute", closes=False):
            pass
    time.sleep(0.25)
    with translate(pool, "connect_compute", closes=False):  # does not take the trial...
        pass
    assert breaker.state(pool) == breaker.HALF_OPEN
    with translate(pool, "list_server"):  # ...the call after it does, and closes
        pass
    assert breaker.state(pool) == breaker.CLOSED


def test_a_failing_cached_step_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = "breaker-test-cached-fail"
    breaker.reset(pool)
    for _ in range(breaker.FAILURES_TO_OPEN):
        with pytest.raises(PoolUnreachable), translate(pool, "connect_compute", closes=False):
            raise ksa_exc.ConnectFailure("refused")
    assert breaker.state(pool) == breaker.OPEN
