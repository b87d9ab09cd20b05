"""Application credentials against the pools' real Keystone: created restricted by the
pool user itself, used, rotated (the old one refused), revoked; effective roles checked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import session as ksa_session
from keystoneauth1.identity import v3
from sqlalchemy import update

from tenantfusion.config import Settings
from tenantfusion.crypto import decrypt_json
from tenantfusion.db import utcnow
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.models import AuthKind, Mapping, MappingState
from tenantfusion.mapping.sessions import tenant_session
from tenantfusion.pools.models import Pool
from tenantfusion.reconciler.loop import run_once
from tests.conftest import Api, admin_conn, make_api, make_settings
from tests.mapping.test_mapping_keystone import register, run_jobs
from tests.platform.test_views import assert_problem

pytestmark = pytest.mark.keystone
IDENTITY = {"service_type": "identity", "interface": "public"}


@pytest.fixture
def api(sqlite_settings: Settings, tmp_path: Path) -> Iterator[Api]:
    """The API on SQLite; application credentials live an hour, renewed in the last 10 min."""
    settings = make_settings(
        sqlite_settings.database_url,
        tmp_path,
        app_credential_ttl_seconds=3600,
        app_credential_renew_seconds=600,
    )
    yield from make_api(settings)


def stored(api: Api, mapping_id: str) -> tuple[str, str]:
    """The (id, secret) of a mapping's application credential, from the database."""
    with api.sessions() as db:
        row = db.get(Mapping, mapping_id)
        assert row is not None and row.app_credential
        cred = decrypt_json(row.app_credential, settings=api.client.app.state.settings)
    return cred["id"], cred["secret"]


def scoped(api: Api, mapping_id: str) -> Any:
    """The tenant's scoped session as tenantfusion builds it for a mapping."""
    with api.sessions() as db:
        mapping = db.get(Mapping, mapping_id)
        assert mapping is not None
        return tenant_session(
            mapping=mapping,
            pool=db.get(Pool, mapping.pool_id),
            settings=api.client.app.state.settings,
        )


def app_session(pool: Any, cred: tuple[str, str]) -> ksa_session.Session:
    auth = v3.ApplicationCredential(
        auth_url=pool.auth_url,
        application_credential_id=cred[0],
        application_credential_secret=cred[1],
    )
    return ksa_session.Session(auth=auth, timeout=10)


def refused(pool: Any, cred: tuple[str, str]) -> bool:
    """Keystone refuses the credential: 401, or 404 for one it deleted."""
    try:
        app_session(pool, cred).get_token()
    except (ksa_exc.Unauthorized, ksa_exc.NotFound):
        return True
    return False


def test_create_use_rotate_revoke(api: Api, keystone_pools: list[Any]) -> None:
    pool = keystone_pools[0]
    register(api, pool)
    tenant, boss = api.new_tenant()
    url = f"/v1/tenants/{tenant['id']}/mappings/alpha"
    m = api.client.put(url, headers=boss).json()
    assert m["auth_kind"] == "application_credential", m
    first = stored(api, m["id"])
    assert m["credential_id"] == first[0]
    # Keystone holds it for the pool user: restricted, member on the project only, expiring
    conn = admin_conn(pool)
    creds = list(conn.identity.application_credentials(user=m["remote_user_id"]))
    assert [c.id for c in creds] == [first[0]]
    assert creds[0].unrestricted is False and creds[0].project_id == m["remote_id"]
    assert "admin" not in {r["name"] for r in creds[0].roles}
    assert creds[0].expires_at is not None
    # used as the tenant: a token scoped to its own project, nothing beyond
    session = app_session(pool, first)
    own = session.get("/auth/projects", endpoint_filter=IDENTITY).json()["projects"]
    assert [p["id"] for p in own] == [m["remote_id"]]
    assert session.get("/projects", endpoint_filter=IDENTITY, raise_exc=False).status_code == 403
    own_session = scoped(api, m["id"])
    assert isinstance(own_session.auth, v3.ApplicationCredential)
    assert own_session.get("/auth/projects", endpoint_filter=IDENTITY).status_code == 200

    # rotate: the new one works, the old one is refused by Keystone
    r = api.client.post(f"{url}/rotate", headers=boss)
    assert r.status_code == 200, r.text
    second = stored(api, m["id"])
    assert r.json()["credential_id"] == second[0] != first[0]
    assert app_session(pool, second).get_token()
    assert refused(pool, first)
    assert [c.id for c in conn.identity.application_credentials(user=m["remote_user_id"])] == [
        second[0]
    ]

    # due for renewal when a session is built: a job rotates it
    with api.sessions() as db:
        db.execute(
            update(Mapping)
            .where(Mapping.id == m["id"])
            .values(app_credential_expires_at=utcnow() + timedelta(seconds=60))
        )
        db.commit()
    scoped(api, m["id"])  # due: building the session queues a rotation job (in a thread)
    deadline, ran = time.monotonic() + 10, 0
    while not ran and time.monotonic() < deadline:
        ran = run_jobs(api) or time.sleep(0.1) or 0
    assert ran == 1
    third = stored(api, m["id"])
    assert third[0] != second[0] and refused(pool, second)
    assert app_session(pool, third).get_token()

    # revoke: deprovisioning deletes the user and with it the credential
    assert api.client.delete(url, headers=boss).status_code == 202
    assert run_jobs(api) == 1
    assert refused(pool, third)


def test_group_granted_admin_is_caught(api: Api, keystone_pools: list[Any]) -> None:
    pool = keystone_pools[0]
    register(api, pool)
    tenant, boss = api.new_tenant()
    url = f"/v1/tenants/{tenant['id']}/mappings/alpha"
    m = api.client.put(url, headers=boss).json()
    conn = admin_conn(pool)
    admin_role = conn.identity.find_role("admin")
    group = conn.identity.create_group(name=f"tf-test-{tenant['id'][:8]}", domain_id="default")
    try:
        conn.identity.assign_project_role_to_group(m["remote_id"], group, admin_role)
        conn.identity.add_user_to_group(m["remote_user_id"], group)
        # the direct assignments alone do not show it
        direct = conn.identity.role_assignments(user_id=m["remote_user_id"])
        assert admin_role.id not in {a.role["id"] for a in direct}
        r = api.client.post(f"{url}/rotate", headers=boss)
        assert_problem(r, 502, "excess-privilege")
        assert "admin" in r.json()["detail"]
        shown = api.client.get(url, headers=boss).json()
        assert shown["state"] == "failed" and "admin" in shown["reason"]
        assert_problem(api.client.put(url, headers=boss), 502, "excess-privilege")
    finally:
        conn.identity.delete_group(group)
    fixed = api.client.put(url, headers=boss)
    assert fixed.status_code == 200 and fixed.json()["state"] == "active", fixed.text


def test_password_mapping_keeps_working_and_is_upgraded(
    api: Api, keystone_pools: list[Any]
) -> None:
    pool = keystone_pools[0]
    register(api, pool)
    tenant, boss = api.new_tenant()
    url = f"/v1/tenants/{tenant['id']}/mappings/alpha"
    r = api.client.put(url, headers=boss)
    assert r.status_code == 201, r.text
    m = r.json()
    old = stored(api, m["id"])
    with api.sessions() as db:  # a mapping as an earlier release left it: password only
        db.execute(
            update(Mapping)
            .where(Mapping.id == m["id"])
            .values(
                auth_kind=AuthKind.password,
                app_credential=None,
                app_credential_id=None,
                app_credential_expires_at=None,
            )
        )
        db.commit()
    legacy = scoped(api, m["id"])
    assert isinstance(legacy.auth, v3.Password)
    assert legacy.get("/auth/projects", endpoint_filter=IDENTITY).status_code == 200
    r = api.client.put(url, headers=boss)
    assert r.status_code == 200 and r.json()["auth_kind"] == "application_credential", r.text
    new = stored(api, m["id"])
    assert new[0] != old[0] and app_session(pool, new).get_token()
    assert refused(pool, old)  # the leftover of the old row was pruned


def test_idle_tenant_credential_is_rotated_by_the_reconciler(
    api: Api, keystone_pools: list[Any]
) -> None:
    """A tenant that never calls: its credential nears expiry, the periodic pass queues a
    rotation (once), the job waits while another worker holds the mapping, then rotates."""
    pool = keystone_pools[0]
    register(api, pool)
    tenant, boss = api.new_tenant()
    m = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/alpha", headers=boss).json()
    first = stored(api, m["id"])
    settings = api.client.app.state.settings
    assert run_once(sessions=api.sessions, settings=settings, owner="r1")["rotations"] == []
    run_jobs(api)  # the pool.reconcile job of that pass
    with api.sessions() as db:  # expires in a minute: inside the 10 min renew window
        db.execute(
            update(Mapping)
            .where(Mapping.id == m["id"])
            .values(app_credential_expires_at=utcnow() + timedelta(seconds=60))
        )
        db.commit()
        assert mapping_service.try_lease(  # another worker is busy with the mapping
            db=db,
            mapping_id=m["id"],
            owner="other",
            seconds=60,
            allow_states=(MappingState.active,),
        )
    queued = run_once(sessions=api.sessions, settings=settings, owner="r1")["rotations"]
    assert len(queued) == 1
    assert run_once(sessions=api.sessions, settings=settings, owner="r1")["rotations"] == []
    run_jobs(api)
    assert stored(api, m["id"]) == first  # the lease was respected: nothing rotated yet
    with api.sessions() as db:
        assert db.get(Job, queued[0]).state is JobState.queued  # type: ignore[union-attr]
        mapping_service.release_lease(db=db, mapping_id=m["id"], owner="other")
        db.execute(update(Job).where(Job.id == queued[0]).values(run_after=utcnow()))
        db.commit()
    run_jobs(api)
    with api.sessions() as db:
        assert db.get(Job, queued[0]).state is JobState.succeeded  # type: ignore[union-attr]
    second = stored(api, m["id"])
    assert second[0] != first[0] and refused(pool, first)
    assert app_session(pool, second).get_token()
    assert run_once(sessions=api.sessions, settings=settings, owner="r1")["rotations"] == []
    run_jobs(api)
