"""Jobs and the periodic reconciler against real Keystone pools (the pool's own admin API is
the witness): a deprovision job pauses without spending attempts while its pool's Keystone
is stopped and finishes once it is back; the health sweep flips the pool's status both
ways (API and /metrics); the reconciler resumes an interrupted onboarding and requeues a
lost deprovision; a failed job is retried over the API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from tenantfusion.db import engine_for, upgrade, utcnow
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.jobs.service import LIVE
from tenantfusion.reconciler.health import sweep
from tenantfusion.reconciler.loop import run_once
from tenantfusion.testbed import start_service, stop_service
from tests.conftest import TESTBED_ROOT, Api, make_api, make_settings
from tests.mapping.test_mapping_keystone import projects_of, register, run_jobs, users_named
from tests.platform.test_views import assert_problem

pytestmark = pytest.mark.keystone


def _job(api: Api, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    r = api.client.get(f"/v1/jobs/{job_id}", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _make_due(api: Api) -> None:
    with api.sessions() as db:
        db.execute(update(Job).values(run_after=utcnow()))
        db.commit()


def _drain(api: Api) -> None:
    """Run jobs until none is live (a pool call that timed out on this loaded machine
    pauses its job: make it due again rather than wait for its next look)."""
    deadline = time.monotonic() + 120
    while True:
        run_jobs(api)
        with api.sessions() as db:
            live = db.scalar(select(func.count()).select_from(Job).where(Job.state.in_(LIVE)))
        if not live:
            return
        assert time.monotonic() < deadline, f"{live} job(s) still live"
        _make_due(api)
        time.sleep(0.5)


def _health(api: Api) -> dict[str, str]:
    return sweep(sessions=api.sessions, settings=api.client.app.state.settings)


def _sweep(api: Api) -> dict[str, Any]:
    summary = run_once(
        sessions=api.sessions, settings=api.client.app.state.settings, owner="test-replica"
    )
    assert summary is not None
    return summary


def _status_metric(api: Api, pool: str) -> str:
    body = api.client.get("/metrics", headers=api.admin).text
    line = next(
        x for x in body.splitlines() if x.startswith(f'tenantfusion_pool_status{{pool="{pool}"}}')
    )
    return line.rsplit(" ", 1)[1]


def test_deprovision_pauses_while_keystone_is_down(
    sqlite_api: Api, keystone_pools: list[Any]
) -> None:
    api, pool = sqlite_api, keystone_pools[1]
    register(api, pool, "beta")
    tenant, boss = api.new_tenant()
    m = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/beta", headers=boss).json()
    assert m["state"] == "active"
    assert _health(api) == {"beta": "ok"}
    stop_service(pool, "keystone", root=TESTBED_ROOT)
    try:
        r = api.client.delete(f"/v1/tenants/{tenant['id']}/mappings/beta", headers=boss)
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        for _ in range(5):  # the first tries reach the pool, then its circuit is open
            assert run_jobs(api) == 1
            job = _job(api, job_id, boss)
            assert job["state"] == "paused", job
            assert job["attempts"] == 0 and job["max_attempts"] == 5
            assert job["error"].startswith("paused until the pool answers")
            _make_due(api)
        summary = _sweep(api)  # the whole pass: no reconcile job for a pool that is down
        assert summary["pools"] == {"beta": "unreachable"} and summary["queued"] == []
        shown = api.client.get("/v1/pools/beta", headers=api.admin).json()
        assert shown["status"] == "unreachable" and shown["status_reason"]
        assert _status_metric(api, "beta") == "2.0"
        listed = api.client.get("/v1/jobs?state=paused", headers=boss).json()["items"]
        assert [j["id"] for j in listed] == [job_id]
    finally:
        start_service(pool, "keystone", root=TESTBED_ROOT)
    started = time.monotonic()
    while (status := _health(api)["beta"]) != "ok":  # the breaker's trial call
        assert time.monotonic() - started < 45, status
        time.sleep(1)
    back_after = time.monotonic() - started
    assert api.client.get("/v1/pools/beta", headers=api.admin).json()["status"] == "ok"
    assert _status_metric(api, "beta") == "0.0"
    with api.sessions() as db:  # the sweep made the pool's paused job due at once
        assert db.get(Job, job_id).run_after <= utcnow()  # type: ignore[union-attr]
    _drain(api)
    job = _job(api, job_id, boss)
    assert job["state"] == "succeeded" and job["attempts"] == 1, job
    assert projects_of(pool, tenant["id"]) == []
    assert users_named(pool, m["project_name"]) == []
    print(f"\nsweep saw beta ok again {back_after:.1f} s after Keystone restarted")


@pytest.fixture
def own_api(tmp_path: Path) -> Iterator[Api]:
    """The API on a database of its own: a fresh installation id, so the pool's projects
    tagged by other tests' installations are not this reconciler's findings."""
    url = f"sqlite:///{tmp_path / 'own.db'}"
    settings = make_settings(url, tmp_path)
    upgrade(settings)
    yield from make_api(settings)
    engine_for(url).dispose()


def test_reconciler_resumes_onboarding_and_lost_deprovision(
    own_api: Api, keystone_pools: list[Any]
) -> None:
    api, pool = own_api, keystone_pools[0]
    register(api, pool, "alpha")
    crashed, boss_c = api.new_tenant()
    leaving, boss_l = api.new_tenant()
    drifted, boss_d = api.new_tenant()
    mc = api.client.put(f"/v1/tenants/{crashed['id']}/mappings/alpha", headers=boss_c).json()
    ml = api.client.put(f"/v1/tenants/{leaving['id']}/mappings/alpha", headers=boss_l).json()
    md = api.client.put(f"/v1/tenants/{drifted['id']}/mappings/alpha", headers=boss_d).json()
    # a worker died after ensure_project: the user was never made, the lease ran out
    from tests.conftest import admin_conn

    admin_conn(pool).identity.delete_user(mc["remote_user_id"])
    with api.sessions() as db:
        db.execute(
            text(
                "UPDATE mapping SET state = 'provisioning', last_step = 'ensure_project', "
                "user_remote_id = NULL, lease_owner = 'dead:1:x', lease_expires_at = :past "
                "WHERE id = :id"
            ),
            {"id": mc["id"], "past": utcnow() - timedelta(seconds=5)},
        )
        # a deprovision was requested, its job never written (the old crash window)
        db.execute(text("UPDATE mapping SET state = 'deleting' WHERE id = :id"), {"id": ml["id"]})
        # a row that says failed while its project is there: drift, reported
        db.execute(
            text("UPDATE mapping SET state = 'failed', reason = 'lost' WHERE id = :id"),
            {"id": md["id"]},
        )
        db.commit()
    assert_problem(
        api.client.put(f"/v1/tenants/{leaving['id']}/mappings/alpha", headers=boss_l),
        409,
        "conflict",
    )
    summary = _sweep(api)
    assert summary["pools"] == {"alpha": "ok"} and len(summary["queued"]) == 1
    assert _sweep(api)["queued"] == []  # one live reconcile job per pool at most
    _drain(api)  # the reconcile, then the deprovision it requeued
    report = _job(api, summary["queued"][0], api.admin)
    assert report["state"] == "succeeded", report
    result = report["result"]
    assert result["jobs"]["resumed"] == [
        {"tenant_id": crashed["id"], "after_step": "ensure_project", "state": "active"}
    ]
    assert [x["mapping_id"] for x in result["jobs"]["requeued"]] == [ml["id"]]
    assert result["findings"]["resumed"] == 1 and result["findings"]["requeued"] == 1
    assert result["drift"] == [
        {
            "tenant_id": drifted["id"],
            "drift": f"row is failed (lost) but its project {md['remote_id']} exists",
        }
    ]
    assert result["findings"]["mapping_drift"] == 1 and result["clean"] is False
    shown = api.client.get(f"/v1/tenants/{crashed['id']}/mappings/alpha", headers=boss_c).json()
    assert shown["state"] == "active" and shown["remote_id"] == mc["remote_id"]
    assert [p.id for p in projects_of(pool, crashed["id"])] == [mc["remote_id"]]
    users = users_named(pool, mc["project_name"])
    assert len(users) == 1 and users[0].id == shown["remote_user_id"]
    assert projects_of(pool, leaving["id"]) == []
    metrics = api.client.get("/metrics", headers=api.admin).text
    assert 'tenantfusion_reconcile_findings{kind="resumed",pool="alpha"} 1.0' in metrics
    # the tenant's next ensure repairs the drifted row; the next period finds nothing left
    fixed = api.client.put(f"/v1/tenants/{drifted['id']}/mappings/alpha", headers=boss_d).json()
    assert fixed["state"] == "active" and fixed["remote_id"] == md["remote_id"]
    again = _sweep(api)
    _drain(api)
    result = _job(api, again["queued"][0], api.admin)["result"]
    assert result["clean"] is True and result["findings"]["mapping_ok"] == 2, result["resources"][
        "failed"
    ]
    assert 'tenantfusion_reconcile_findings{kind="resumed",pool="alpha"} 0.0' in (
        api.client.get("/metrics", headers=api.admin).text
    )


def test_retry_a_failed_job(sqlite_api: Api, keystone_pools: list[Any]) -> None:
    """A deprovision whose job failed for good stays visible; its tenant retries it."""
    api, pool = sqlite_api, keystone_pools[0]
    register(api, pool, "alpha")
    tenant, boss = api.new_tenant()
    other, boss_other = api.new_tenant()
    m = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss).json()
    job_id = api.client.delete(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss).json()[
        "id"
    ]
    with api.sessions() as db:  # as if its attempts had run out
        db.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(state=JobState.failed, attempts=5, error="pool alpha: gave up")
        )
        db.commit()
    assert_problem(
        api.client.post(f"/v1/jobs/{job_id}/retry", headers=boss_other), 404, "not-found"
    )
    r = api.client.post(f"/v1/jobs/{job_id}/retry", headers=boss)
    assert r.status_code == 202, r.text
    queued = r.json()
    assert queued["state"] == "queued" and queued["attempts"] == 0 and queued["error"] == ""
    assert queued["deadline_at"]
    assert_problem(api.client.post(f"/v1/jobs/{job_id}/retry", headers=boss), 409, "conflict")
    assert run_jobs(api) == 1
    assert _job(api, job_id, boss)["state"] == "succeeded"
    assert projects_of(pool, tenant["id"]) == []
    assert users_named(pool, m["project_name"]) == []
    audit = api.client.get("/v1/audit?action=job.retry", headers=api.admin).json()["items"]
    assert [a["target_id"] for a in audit] == [job_id]
