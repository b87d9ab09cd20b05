"""A circuit breaker per pool: after a run of failed calls, fail fast for a while instead
of waiting for the timeout on every request; then let one trial call through (half-open)
and close again on its success.

A call fails when the pool is unreachable or does not answer in time, answers 5xx, or
answers only after ``SLOW_SECONDS`` (a pool that slow is treated like one that is down:
its callers would give up on it anyway).

State is per process (each replica learns on its own) and exported as the gauge
``tenantfusion_pool_breaker_state`` (0 closed, 1 half-open, 2 open).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from tenantfusion.errors import PoolUnreachable
from tenantfusion.metrics import POOL_BREAKER_STATE

FAILURES_TO_OPEN = 3
OPEN_SECONDS = 15.0
#: A successful answer that took at least this long still counts as a failure.
SLOW_SECONDS = 10.0
CLOSED, HALF_OPEN, OPEN = 0, 1, 2


@dataclass
class _State:
    failures: int = 0
    opened_at: float | None = None
    trial_running: bool = False


_lock = threading.Lock()
_states: dict[str, _State] = {}


def _set(pool: str, state: int) -> None:
    POOL_BREAKER_STATE.labels(pool=pool).set(state)


def before_call(pool: str, *, trial: bool = True) -> None:
    """Raise PoolUnreachable at once while the pool's circuit is open. After the cool-down
    the call becomes the half-open trial, unless ``trial`` is false (a step that may answer
    from a cache, which proves nothing about the pool: it goes through without claiming
    the trial)."""
    with _lock:
        st = _states.get(pool)
        if st is None or st.opened_at is None:
            return
        waited = time.monotonic() - st.opened_at
        if waited < OPEN_SECONDS or st.trial_running:
            retry = max(0.0, OPEN_SECONDS - waited)
            raise PoolUnreachable(
                f"pool {pool} is failing fast after {st.failures} failed calls "
                f"(circuit open; next trial in {retry:.0f} s)",
                pool=pool,
            )
        if trial:
            st.trial_running = True  # half-open: this call is the trial
            _set(pool, HALF_OPEN)


def configure(*, slow_seconds: float) -> None:
    """Set how slow an answer may be before it counts as a failure (from the settings)."""
    global SLOW_SECONDS
    SLOW_SECONDS = slow_seconds


def after_call(pool: str, *, failed: bool, seconds: float = 0.0, closes: bool = True) -> None:
    """Record a call's outcome: ``failed`` (unreachable, timed out, 5xx), or an answer that
    took ``seconds`` (slow answers count as failures; other answers close the circuit,
    unless ``closes`` is false: a step that may not have reached the pool at all, such as
    the SDK's cached service lookup before every call, must not wipe the failures that the
    calls after it see, or a pool answering too late never opens its circuit)."""
    with _lock:
        st = _states.setdefault(pool, _State())
        ok = not failed and seconds < SLOW_SECONDS
        if not closes:
            if not ok:
                _failed(pool, st)
            return
        st.trial_running = False
        if ok:
            if st.failures or st.opened_at is not None:
                _set(pool, CLOSED)
            st.failures, st.opened_at = 0, None
            return
        _failed(pool, st)


def abandon(pool: str) -> None:
    """Record a call that ended on its caller's side before the pool answered (a request
    body that broke off): it proves nothing about the pool, so it counts for nothing, and
    frees the half-open trial it may have been."""
    with _lock:
        st = _states.get(pool)
        if st is not None:
            st.trial_running = False


def _failed(pool: str, st: _State) -> None:
    st.failures += 1
    if st.failures >= FAILURES_TO_OPEN:
        st.opened_at = time.monotonic()
        _set(pool, OPEN)


def state(pool: str) -> int:
    """CLOSED, HALF_OPEN or OPEN (for tests and the console)."""
    with _lock:
        st = _states.get(pool)
        if st is None or st.opened_at is None:
            return CLOSED
        return HALF_OPEN if time.monotonic() - st.opened_at >= OPEN_SECONDS else OPEN


def reset(pool: str | None = None) -> None:
    """Forget the state of one pool (a pool re-registered or re-checked) or of all."""
    with _lock:
        for name in [pool] if pool else list(_states):
            _states.pop(name, None)
            _set(name, CLOSED)
