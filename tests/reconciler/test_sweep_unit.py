"""The health sweep's own logic on in-memory fake pools (against real Keystone pools:
tests/jobs/test_jobs_keystone.py): every enabled pool checked in one pass, outcomes written
together, a pool seen back from unreachable has its paused jobs made due."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tenantfusion.db import utcnow
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.platform.principal import SYSTEM
from tenantfusion.pools.models import Pool, PoolStatus
from tenantfusion.reconciler.health import sweep
from tests.resources.engine_world import World, world  # noqa: F401  (fixture)


def _pools(w: World) -> dict[str, Pool]:
    with w.sessions() as db:
        return {p.name: p for p in db.scalars(select(Pool))}


def test_sweep_records_every_pool_in_one_pass(world: World) -> None:  # noqa: F811
    world.clouds["fb"].down = True
    with world.sessions() as db:
        db.get(Pool, _pools(world)["fc"].id).is_enabled = False  # type: ignore[union-attr]
        db.commit()
    assert sweep(sessions=world.sessions, settings=world.settings) == {
        "fa": "ok",
        "fb": "unreachable",
    }
    pools = _pools(world)
    assert pools["fb"].status is PoolStatus.unreachable and "fake pool down" in (
        pools["fb"].status_reason
    )
    assert pools["fa"].checked_at is not None and pools["fc"].checked_at is None

    with world.sessions() as db:
        job = job_service.enqueue(
            db=db,
            actor=SYSTEM,
            kind="pool.reconcile",
            payload={"pool_id": pools["fb"].id},
            tenant_id=None,
            total_steps=1,
        )
        job.pool_id, job.state = pools["fb"].id, JobState.paused
        job.run_after = utcnow() + timedelta(hours=1)
        db.commit()
        job_id = job.id
    world.clouds["fb"].down = False
    assert sweep(sessions=world.sessions, settings=world.settings)["fb"] == "ok"
    with world.sessions() as db:
        resumed = db.get(Job, job_id)
        assert resumed is not None and resumed.run_after <= utcnow()
