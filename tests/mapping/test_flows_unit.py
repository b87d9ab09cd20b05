"""Own logic of the ensure flow on a fake driver: crash resume, lease takeover, fencing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from tenantfusion.config import Settings
from tenantfusion.crypto import encrypt_json
from tenantfusion.db import session_factory, utcnow
from tenantfusion.errors import PoolUnreachable
from tenantfusion.mapping.flows import mapping_ensure_flow
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.principal import SYSTEM
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate
from tenantfusion.pools.drivers import DRIVERS
from tenantfusion.pools.drivers.base import PoolAuth
from tenantfusion.pools.models import Pool, PoolStatus
from tests.fakes import CLOUDS, FakeCloud, FakeDriver


@pytest.fixture
def world(sqlite_settings: Settings) -> Iterator[tuple[Settings, str, FakeCloud]]:
    DRIVERS["fake"] = FakeDriver
    url = "fake://cloud-1"
    CLOUDS[url] = cloud = FakeCloud()
    sessions = session_factory(sqlite_settings)
    with sessions() as db:
        tenant = platform_service.create_tenant(
            db=db,
            actor=SYSTEM,
            data=TenantCreate(
                name="acme", admin=TenantAdmin(username="boss", password="boss-password")
            ),
        )
        auth = PoolAuth(auth_url=url, username="admin", password="pw")
        db.add(
            Pool(
                name="fake1",
                driver="fake",
                auth_url=url,
                project_domain="Default",
                credential=encrypt_json(auth.to_dict(), settings=sqlite_settings),
                status=PoolStatus.ok,
            )
        )
        db.commit()
        tenant_id = tenant.id
    yield sqlite_settings, tenant_id, cloud
    DRIVERS.pop("fake")
    CLOUDS.pop(url)


def ensure(settings: Settings, tenant_id: str) -> Mapping:
    mapping, _ = mapping_ensure_flow(
        sessions=session_factory(settings),
        actor=SYSTEM,
        tenant_id=tenant_id,
        pool_ref="fake1",
        settings=settings,
    )
    return mapping


def test_failed_step_resumes_without_duplicates(world: tuple[Settings, str, FakeCloud]) -> None:
    settings, tenant_id, cloud = world
    cloud.fail_on = {"create_user"}
    with pytest.raises(PoolUnreachable):
        ensure(settings, tenant_id)
    with session_factory(settings)() as db:
        row = db.query(Mapping).one()
        assert row.state is MappingState.failed and row.last_step == "ensure_project"
        assert row.project_remote_id and row.credential and row.lease_owner is None
    cloud.fail_on = set()
    mapping = ensure(settings, tenant_id)
    assert mapping.state is MappingState.active
    assert len(cloud.projects) == 1 and len(cloud.users) == 1
    assert mapping.project_remote_id == next(iter(cloud.projects))


def test_expired_lease_of_a_crashed_worker_is_taken_over(
    world: tuple[Settings, str, FakeCloud],
) -> None:
    settings, tenant_id, cloud = world
    cloud.fail_on = {"grant_project_role"}
    with pytest.raises(PoolUnreachable):
        ensure(settings, tenant_id)
    cloud.fail_on = set()
    sessions = session_factory(settings)
    with sessions() as db:  # a worker that crashed mid-provisioning, lease long expired
        db.execute(
            update(Mapping).values(
                state=MappingState.provisioning,
                lease_owner="dead:1",
                lease_expires_at=utcnow() - timedelta(seconds=5),
            )
        )
        db.commit()
    mapping = ensure(settings, tenant_id)
    assert mapping.state is MappingState.active and mapping.lease_owner is None
    assert len(cloud.projects) == 1 and len(cloud.users) == 1


def test_waiter_gives_up_at_deadline_while_lease_is_live(
    world: tuple[Settings, str, FakeCloud],
) -> None:
    settings, tenant_id, _ = world
    ensure(settings, tenant_id)
    with session_factory(settings)() as db:
        db.execute(
            update(Mapping).values(
                state=MappingState.provisioning,
                lease_owner="other:1",
                lease_expires_at=utcnow() + timedelta(minutes=5),
            )
        )
        db.commit()
    short = settings.model_copy(update={"ensure_wait_seconds": 0.3})
    from tenantfusion.errors import PoolUnavailable

    with pytest.raises(PoolUnavailable):
        ensure(short, tenant_id)


def test_pool_without_application_credentials_falls_back_to_the_password(
    world: tuple[Settings, str, FakeCloud],
) -> None:
    from tenantfusion.mapping.flows import mapping_rotate_flow
    from tenantfusion.mapping.models import AuthKind

    settings, tenant_id, cloud = world
    cloud.has_app_credentials = False
    mapping = ensure(settings, tenant_id)
    assert mapping.state is MappingState.active
    assert mapping.auth_kind is AuthKind.password_fallback and mapping.app_credential is None
    # a later ensure does not retry; an explicit rotate does, once the pool has them
    assert ensure(settings, tenant_id).auth_kind is AuthKind.password_fallback
    cloud.has_app_credentials = True
    rotated = mapping_rotate_flow(
        sessions=session_factory(settings),
        actor=SYSTEM,
        tenant_id=tenant_id,
        pool_ref="fake1",
        settings=settings,
    )
    assert rotated.auth_kind is AuthKind.application_credential
    assert [c.remote_id for _, c, _ in cloud.app_credentials.values()] == [
        rotated.app_credential_id
    ]


def test_interrupted_rotation_leaves_no_stale_credential(
    world: tuple[Settings, str, FakeCloud],
) -> None:
    """The pool went down after the switch, before the old credential was deleted: the
    mapping already uses the new one, and the next rotation deletes every leftover."""
    from tenantfusion.mapping.flows import mapping_rotate_flow

    settings, tenant_id, cloud = world
    first = ensure(settings, tenant_id).app_credential_id

    def rotate() -> Mapping:
        return mapping_rotate_flow(
            sessions=session_factory(settings),
            actor=SYSTEM,
            tenant_id=tenant_id,
            pool_ref="fake1",
            settings=settings,
        )

    cloud.fail_on.add("delete_application_credential")
    with pytest.raises(PoolUnreachable):
        rotate()  # switched to the new one, the old one still there
    cloud.fail_on.clear()
    assert len(cloud.app_credentials) == 2
    final = rotate()
    assert final.app_credential_id != first
    assert list(cloud.app_credentials) == [final.app_credential_id]
