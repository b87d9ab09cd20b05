"""Health over time and job timelines from real pools: the reconciler's sweep records a
sample per pool (the last few kept) that the pool page draws; a real deprovision job's
events (started, each step, succeeded) are what its page's timeline shows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tenantfusion.jobs.models import JobEvent
from tenantfusion.pools import history
from tenantfusion.pools.models import PoolHealthSample
from tenantfusion.reconciler.health import sweep
from tests.conftest import Api
from tests.jobs.test_jobs_keystone import _drain as drain
from tests.mapping.test_mapping_keystone import register
from tests.web.test_pages import admin_console
from tests.web.test_pages_tenant import tenant_console

pytestmark = pytest.mark.keystone


def test_sweep_samples_draw_the_pool_health_history(
    sqlite_api: Api, keystone_pools: list[Any]
) -> None:
    register(sqlite_api, keystone_pools[0], "alpha")
    admin = admin_console(sqlite_api)
    assert "No samples yet" in admin.get("/console/admin/pools/alpha").text

    settings = sqlite_api.client.app.state.settings
    for _ in range(3):
        assert sweep(sessions=sqlite_api.sessions, settings=settings) == {"alpha": "ok"}
    with sqlite_api.sessions() as db:
        pool_id = db.scalar(select(PoolHealthSample.pool_id))
        assert pool_id
        samples = history.recent(db=db, pool_id=pool_id)
    assert len(samples) == 3 and all(s.status == "ok" and s.breaker == 0 for s in samples)
    assert all(s.latency_ms is not None and s.latency_ms >= 0 for s in samples)
    assert [s.at for s in samples] == sorted(s.at for s in samples)

    page = admin.get("/console/admin/pools/alpha").text
    assert 'data-chart="latency"' in page and 'data-chart="breaker"' in page
    assert "Health check latency, 3 samples from" in page
    assert f"latest {samples[-1].latency_ms:,} ms (ok)" in page
    assert "Circuit breaker, 3 samples" in page and ">half-open</text>" in page

    # only the newest are kept
    with sqlite_api.sessions() as db:
        for _ in range(4):
            history.record(db=db, samples=[history.Sample(pool_id, "ok", 1, 0)])
        history.record(db=db, samples=[history.Sample(pool_id, "degraded", 2, 0)], keep=2)
        db.commit()
        kept = history.recent(db=db, pool_id=pool_id)
    assert [(s.status, s.latency_ms) for s in kept] == [("ok", 1), ("degraded", 2)]


def test_a_real_job_shows_its_timeline(sqlite_api: Api, keystone_pools: list[Any]) -> None:
    register(sqlite_api, keystone_pools[0], "alpha")
    tenant, boss = sqlite_api.new_tenant("acme")
    url = f"/v1/tenants/{tenant['id']}/mappings/alpha"
    assert sqlite_api.client.put(url, headers=boss).status_code == 201
    job = sqlite_api.client.delete(url, headers=boss).json()

    console = tenant_console(sqlite_api)
    queued = console.get(f"/console/jobs/{job['id']}").text
    assert "<li>queued: at +0.0 s" in queued and ">started</text>" not in queued

    drain(sqlite_api)  # a pool slow on this loaded machine pauses the job: a real event too
    with sqlite_api.sessions() as db:
        events = list(
            db.scalars(select(JobEvent).where(JobEvent.job_id == job["id"]).order_by(JobEvent.at))
        )
        steps = db.scalar(
            select(func.count()).select_from(JobEvent).where(JobEvent.event == "step")
        )
    assert [e.event for e in events][0] == "started" and events[-1].event == "succeeded"
    assert steps and steps >= 1

    page = console.get(f"/console/jobs/{job['id']}").text
    assert 'data-chart="timeline"' in page
    for e in events:
        label = f"step {e.step}: {e.name}" if e.event == "step" else e.event
        assert f"<li>{label}: at +" in page
    assert (
        page.index(">queued</text>")
        < page.index(">started</text>")
        < page.index(">succeeded</text>")
    )
