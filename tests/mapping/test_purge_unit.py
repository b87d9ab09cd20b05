"""Own logic of leaving a pool on a fake driver: the 409 gate, step order, resume after a
failed step, progress (the real pools prove the deletes: tests/mapping/test_purge_full.py)."""

from __future__ import annotations

import pytest

from tenantfusion.config import Settings
from tenantfusion.db import session_factory
from tenantfusion.errors import ObjectsLeft, PoolUnreachable
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.jobs.worker import run_pending
from tenantfusion.mapping import jobs as _mapping_jobs  # noqa: F401  (registers handlers)
from tenantfusion.mapping.flows import mapping_deprovision_flow
from tenantfusion.mapping.models import Mapping
from tenantfusion.mapping.purge import DELETE_STEPS
from tenantfusion.mapping.teardown import deprovision_job, pool_delete_flow, tenant_delete_flow
from tenantfusion.platform.models import Tenant
from tenantfusion.platform.principal import SYSTEM
from tenantfusion.pools.drivers.remote import RemoteObject
from tenantfusion.pools.models import Pool
from tenantfusion.resources import service as record_service
from tests.fakes import FakeCloud
from tests.mapping.test_flows_unit import ensure, world  # noqa: F401  (fixture)

KINDS = ("floating_ip", "server", "router", "port", "subnet", "network", "security_group")


def _fill(settings: Settings, tenant_id: str, cloud: FakeCloud) -> str:
    """One object of each kind in the tenant's project, a record for the server (its id)."""
    project_id = ensure(settings, tenant_id).project_remote_id
    for kind in KINDS:
        cloud.objects[f"{kind}-x"] = RemoteObject(kind, f"{kind}-x", kind, "ACTIVE", project_id)
    cloud.objects["server-other"] = RemoteObject("server", "server-other", "o", "ACTIVE", "p-else")
    with session_factory(settings)() as db:
        pool = db.query(Pool).one()
        record, _ = record_service.begin(
            db=db, tenant_id=tenant_id, pool_id=pool.id, kind="server", name="web"
        )
        record_service.activate(db=db, record=record, remote_id="server-x")
        return record.id


def test_deprovision_with_objects_is_refused_then_purged(
    world: tuple[Settings, str, FakeCloud],  # noqa: F811
) -> None:
    settings, tenant_id, cloud = world
    record_id = _fill(settings, tenant_id, cloud)
    sessions = session_factory(settings)
    with sessions() as db:
        mapping, pool = db.query(Mapping).one(), db.query(Pool).one()
        with pytest.raises(ObjectsLeft) as refused:
            deprovision_job(db=db, actor=SYSTEM, mapping=mapping, pool=pool)
        assert refused.value.extra["objects"] == {"server": {"count": 1, "ids": [record_id]}}
        assert "1 server" in refused.value.detail and "purge" in refused.value.detail
        db.rollback()
        job = deprovision_job(db=db, actor=SYSTEM, mapping=mapping, pool=pool, purge=True)
        db.commit()
        job_id = job.id
    assert run_pending(sessions=sessions, settings=settings) == 1
    with sessions() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.state is JobState.succeeded, job.error
        assert (job.step, job.total_steps) == (len(DELETE_STEPS), len(DELETE_STEPS))
        assert db.query(Mapping).count() == 0
        assert record_service.left(db=db, tenant_id=tenant_id) == {}
    assert set(cloud.objects) == {"server-other"}  # another project's server stays
    assert cloud.projects == {} and cloud.users == {}


def test_failed_purge_step_resumes_where_it_stopped(
    world: tuple[Settings, str, FakeCloud],  # noqa: F811
) -> None:
    settings, tenant_id, cloud = world
    _fill(settings, tenant_id, cloud)
    sessions = session_factory(settings)
    with sessions() as db:
        mapping, pool = db.query(Mapping).one(), db.query(Pool).one()
        deprovision_job(db=db, actor=SYSTEM, mapping=mapping, pool=pool, purge=True)
        db.commit()
        mapping_id = mapping.id
    cloud.fail_on = {"list_project_networks"}
    seen: list[str] = []
    with sessions() as db, pytest.raises(PoolUnreachable):
        mapping_deprovision_flow(
            db=db,
            mapping_id=mapping_id,
            settings=settings,
            on_step=lambda i, n, name: seen.append(name),
        )
    with sessions() as db:
        row = db.get(Mapping, mapping_id)
        assert row is not None and row.last_step == "delete_subnets" and row.lease_owner is None
    assert "network-x" in cloud.objects and "subnet-x" not in cloud.objects
    cloud.fail_on = set()
    resumed: list[tuple[int, str]] = []
    with sessions() as db:
        assert mapping_deprovision_flow(
            db=db,
            mapping_id=mapping_id,
            settings=settings,
            on_step=lambda i, n, name: resumed.append((i, name)),
        )
    assert resumed[0] == (8, "delete_networks") and resumed[-1][0] == len(DELETE_STEPS)
    assert seen[:2] == ["release_floating_ips", "delete_servers"]
    assert set(cloud.objects) == {"server-other"} and cloud.projects == {}


def test_tenant_and_pool_deletes_name_what_is_left_never_a_foreign_key(
    world: tuple[Settings, str, FakeCloud],  # noqa: F811
) -> None:
    settings, tenant_id, cloud = world
    record_id = _fill(settings, tenant_id, cloud)
    sessions = session_factory(settings)
    with sessions() as db:
        pool, tenant = db.query(Pool).one(), db.get(Tenant, tenant_id)
        assert tenant is not None
        with pytest.raises(ObjectsLeft) as refused:
            pool_delete_flow(db=db, actor=SYSTEM, pool=pool)
        assert refused.value.extra["mappings"] == ["tenant acme (active)"]
        with pytest.raises(ObjectsLeft) as refused:
            tenant_delete_flow(db=db, actor=SYSTEM, tenant=tenant)
        assert refused.value.extra["mappings"] == ["fake1"]
        assert refused.value.extra["objects"]["server"]["ids"] == [record_id]
        # a mapping row lost by an older version: the records still hold both back
        db.query(Mapping).delete()
        db.commit()
        with pytest.raises(ObjectsLeft) as refused:
            pool_delete_flow(db=db, actor=SYSTEM, pool=pool)
        assert "1 routing record" in refused.value.detail
        with pytest.raises(ObjectsLeft) as refused:
            tenant_delete_flow(db=db, actor=SYSTEM, tenant=tenant)
        assert refused.value.extra["mappings"] == [] and "1 server" in refused.value.detail
