"""Nothing lost, nothing duplicated, nothing stuck: `tenantfusion serve` is killed at every
crash point of a server create (onboarding, default network, server) and of deletes, then
restarted; the client retries with its Idempotency-Key. Each pool's own APIs, read as
its admin, must then hold exactly one project, one user and one server per request, no
object without a record, no record without its object, and nothing left half-done.

Real full pools (Keystone, Nova with the fake driver, Neutron, Placement, Glance).
"""

from __future__ import annotations

import concurrent.futures
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tenantfusion.config import Settings
from tenantfusion.db import session_factory, upgrade
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.platform import service as platform_service
from tenantfusion.pools.drivers.remote import record_tag
from tenantfusion.resources.models import RecordState, RoutingRecord
from tenantfusion.testbed import PoolInfo, connect, ensure_pools
from tests.conftest import ROOT, TEST_KEY, pool_body
from tests.served import Served

pytestmark = pytest.mark.pools

CIDR = "198.51.100.0/24"
ADMIN_PASSWORD = "crash-admin-password"
#: Short leases and key locks: a killed attempt's hold runs out quickly (tests only).
SETTINGS = {
    "pool_timeout_seconds": "10",
    "lease_seconds": "10",
    "idempotency_lock_seconds": "6",
    "ensure_wait_seconds": "90",
}
ONBOARD_AND_CREATE = [
    "mapping.ensure.leased",
    "mapping.ensure.ensure_project.pool_done",
    "mapping.ensure.ensure_service_user.pool_done",
    "mapping.ensure.grant_member_role.pool_done",
    "mapping.ensure.verify_least_privilege.pool_done",
    "mapping.ensure.ensure_application_credential.pool_done",
    "resource.create.network.record_written",
    "resource.create.network.pool_done",
    "resource.create.subnet.record_written",
    "resource.create.subnet.pool_done",
    "resource.create.router.record_written",
    "resource.create.router.pool_done",
    "resource.default.router_interface.pool_done",
    "resource.create.server.record_written",
    "resource.create.server.pool_done",
]
DELETES = [
    "resource.delete.server.enqueued",
    "resource.delete.server.pool_done",
    "resource.delete.network.enqueued",
    "resource.delete.network.pool_done",
]
REPORT = ROOT / "artifacts" / "crash-report.json"


@dataclass
class World:
    url: str  # a server that is never killed (setup, witnesses)
    admin: dict[str, str]
    database_url: str
    data_dir: Path
    pool: PoolInfo
    flavor: str
    image: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    pool = ensure_pools(count=2, kind="full")[0]
    data_dir = tmp_path_factory.mktemp("crash")
    database_url = f"sqlite:///{data_dir / 'tf.db'}"
    settings = Settings(database_url=database_url, secret_key=TEST_KEY)  # type: ignore[arg-type]
    upgrade(settings)
    with session_factory(settings)() as db:
        platform_service.create_platform_admin(db=db, username="root", password=ADMIN_PASSWORD)
        db.commit()
    steady = Served(database_url=database_url, data_dir=data_dir, **SETTINGS)
    url = steady.start(run_worker="false")  # jobs are the killed servers' to run
    try:
        r = httpx.post(
            f"{url}/v1/auth/tokens", json={"username": "root", "password": ADMIN_PASSWORD}
        )
        admin = {"X-Auth-Token": r.json()["token"]}
        r = httpx.post(
            f"{url}/v1/pools",
            headers=admin,
            json={**pool_body(pool, "east"), "default_network_cidr": CIDR},
            timeout=60,
        )
        assert r.status_code == 201, r.text
        conn = connect(pool)
        flavor = min(conn.compute.flavors(), key=lambda f: f.ram).name
        image = next(iter(conn.image.images(visibility="public"))).name
        yield World(url, admin, database_url, data_dir, pool, flavor, image)
    finally:
        steady.stop()


def new_tenant(world: World) -> tuple[str, dict[str, str]]:
    name = f"crash-{uuid.uuid4().hex[:8]}"
    r = httpx.post(
        f"{world.url}/v1/tenants",
        headers=world.admin,
        json={"name": name, "admin": {"username": "boss", "password": "boss-password"}},
    )
    assert r.status_code == 201, r.text
    login = httpx.post(
        f"{world.url}/v1/auth/tokens",
        json={"tenant": name, "username": "boss", "password": "boss-password"},
    )
    return r.json()["id"], {"X-Auth-Token": login.json()["token"]}


def send_until_done(
    method: str, url: str, *, headers: dict[str, str], body: Any = None, timeout: float = 240
) -> httpx.Response:
    """What a client does when an answer is lost: send again, same key, until it is known."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = httpx.request(method, url, headers=headers, json=body, timeout=120)
            if r.status_code < 500 and not (
                r.status_code == 409 and r.json().get("type") == "idempotency-in-progress"
            ):
                return r
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{method} {url} never settled"
        time.sleep(1)


def kill_then_retry(
    world: World,
    point: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any = None,
    *,
    tenant_id: str,
    jobs: bool = False,
) -> httpx.Response:
    """Send the request to a server armed to die at ``point`` (in the request or in its
    job worker); retry until the outcome is known (on a restarted process when ``jobs``,
    whose worker then finishes the tenant's jobs)."""
    doomed = Served(database_url=world.database_url, data_dir=world.data_dir, **SETTINGS)
    url = doomed.start(crash_at=point)
    try:
        httpx.request(method, f"{url}{path}", headers=headers, json=body, timeout=120)
    except httpx.TransportError:
        pass  # the process died under the request
    try:
        doomed.wait_crashed()
        # jobs need a worker: a restarted process runs it; requests alone go to the
        # steady replica, as a load balancer would send the client's retry
        url = doomed.start() if jobs else world.url
        answer = send_until_done(method, f"{url}{path}", headers=headers, body=body)
        wait_for_jobs(world, tenant_id)
        return answer
    finally:
        doomed.stop()


def wait_for_jobs(world: World, tenant_id: str) -> None:
    settings = Settings(database_url=world.database_url, secret_key=TEST_KEY)  # type: ignore[arg-type]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        with session_factory(settings)() as db:
            jobs = list(db.scalars(select(Job).where(Job.tenant_id == tenant_id)))
        if all(j.state in (JobState.succeeded, JobState.failed) for j in jobs):
            assert all(j.state is JobState.succeeded for j in jobs), [
                (j.kind, j.error) for j in jobs
            ]
            return
        time.sleep(1)
    raise AssertionError("the tenant's jobs did not finish")


def records(world: World, tenant_id: str) -> list[RoutingRecord]:
    settings = Settings(database_url=world.database_url, secret_key=TEST_KEY)  # type: ignore[arg-type]
    with session_factory(settings)() as db:
        return list(db.scalars(select(RoutingRecord).where(RoutingRecord.tenant_id == tenant_id)))


def pool_census(world: World, tenant_id: str) -> dict[str, Any]:
    """What the pool itself holds for the tenant, read as its admin."""
    conn = connect(world.pool)
    projects = [p for p in conn.identity.projects() if f"tf-tenant:{tenant_id}" in (p.tags or [])]
    census: dict[str, Any] = {"projects": len(projects), "users": 0, "objects": {}}
    for project in projects:
        census["users"] += sum(1 for u in conn.identity.users() if u.name == project.name)
        found = {
            "server": [
                s.id for s in conn.compute.servers(all_projects=True, project_id=project.id)
            ],
            "network": [n.id for n in conn.network.networks(project_id=project.id)],
            "subnet": [s.id for s in conn.network.subnets(project_id=project.id)],
            "router": [r.id for r in conn.network.routers(project_id=project.id)],
        }
        for kind, ids in found.items():
            census["objects"].setdefault(kind, []).extend(ids)
    return census


def audit_tenant(world: World, tenant_id: str, *, servers: int) -> dict[str, int]:
    """Duplicates, orphans (objects without a record), lost (records without an object)
    and stuck (records creating/deleting) for one tenant."""
    census = pool_census(world, tenant_id)
    rows = records(world, tenant_id)
    routed = {(r.kind, r.remote_id) for r in rows if r.state is RecordState.active}
    objects = {(k, i) for k, ids in census["objects"].items() for i in ids}
    return {
        "duplicates": max(census["projects"] - 1, 0)
        + max(census["users"] - 1, 0)
        + max(len(census["objects"].get("server", [])) - servers, 0),
        "orphans": len(objects - routed),
        "lost": len(routed - objects),
        "stuck": sum(r.state in (RecordState.creating, RecordState.deleting) for r in rows),
    }


def create_server_killed_at(world: World, point: str) -> dict[str, Any]:
    tenant_id, headers = new_tenant(world)
    headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    body = {"name": "k", "flavor": world.flavor, "image": world.image, "pool": "east"}
    r = kill_then_retry(world, point, "POST", "/v1/servers", headers, body, tenant_id=tenant_id)
    assert r.status_code == 201, (point, r.text)
    server = r.json()
    again = httpx.post(f"{world.url}/v1/servers", headers=headers, json=body, timeout=120)
    assert again.status_code == 201 and again.json()["id"] == server["id"], (point, again.text)
    assert again.headers.get("Idempotent-Replayed") == "true"
    conn = connect(world.pool)
    nova = conn.compute.get_server(server["remote_id"])
    assert record_tag(server["id"]) in (nova.tags or []), (point, nova.tags)
    return {"point": point, "requests": 3, **audit_tenant(world, tenant_id, servers=1)}


@pytest.mark.timeout(3000)
def test_kill_at_every_step_of_a_server_create(world: World) -> None:
    """A brand-new tenant's first server in a pool (mapping, default network, server),
    killed at each of its crash points: the retry with the same key yields one of each."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(lambda p: create_server_killed_at(world, p), ONBOARD_AND_CREATE))
    _report("create", rows)
    bad = [r for r in rows if r["duplicates"] or r["orphans"] or r["lost"] or r["stuck"]]
    assert not bad, bad


def _wait_gone(world: World, tenant_id: str, kind: str, remote_id: str) -> None:
    deadline = time.monotonic() + 180
    conn = connect(world.pool)
    while time.monotonic() < deadline:
        if kind == "server":
            gone = conn.compute.find_server(remote_id, all_projects=True) is None
        else:
            gone = conn.network.find_network(remote_id) is None
        if gone and not any(r.remote_id == remote_id for r in records(world, tenant_id)):
            return
        time.sleep(1)
    raise AssertionError(f"{kind} {remote_id} or its record is still there")


def delete_killed_at(world: World, point: str) -> dict[str, Any]:
    tenant_id, headers = new_tenant(world)
    kind = point.split(".")[2]
    if kind == "server":
        body = {"name": "d", "flavor": world.flavor, "image": world.image, "pool": "east"}
        path = "/v1/servers"
    else:
        body = {"name": "d", "pool": "east"}
        path = "/v1/networks"
    created = httpx.post(f"{world.url}{path}", headers=headers, json=body, timeout=120)
    assert created.status_code == 201, created.text
    obj = created.json()
    r = kill_then_retry(
        world, point, "DELETE", f"{path}/{obj['id']}", headers, tenant_id=tenant_id, jobs=True
    )
    assert r.status_code in (202, 204, 404), (point, r.text)
    _wait_gone(world, tenant_id, kind, obj["remote_id"])
    expected_servers = 0
    return {
        "point": point,
        "requests": 2,
        **audit_tenant(world, tenant_id, servers=expected_servers),
    }


@pytest.mark.timeout(1800)
def test_kill_at_every_step_of_a_delete(world: World) -> None:
    rows = [delete_killed_at(world, p) for p in DELETES]  # one at a time: any worker
    # would take another tenant's delete job, crash point and all
    _report("delete", rows)
    bad = [r for r in rows if r["duplicates"] or r["orphans"] or r["lost"] or r["stuck"]]
    assert not bad, bad


def _report(flow: str, rows: list[dict[str, Any]]) -> None:
    REPORT.parent.mkdir(exist_ok=True)
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    report[flow] = rows
    REPORT.write_text(json.dumps(report, indent=2))


def test_the_same_create_sent_twice_at_once_gives_one_server(world: World) -> None:
    """Two copies of one request at the same time (a client retrying too early): one
    onboarding, one server, both answers name it."""
    tenant_id, headers = new_tenant(world)
    headers = {**headers, "Idempotency-Key": "twice-at-once"}
    body = {"name": "twin", "flavor": world.flavor, "image": world.image, "pool": "east"}
    url = f"{world.url}/v1/servers"
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(lambda _: send_until_done("POST", url, headers=headers, body=body), [1, 2])
        )
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    other = httpx.post(url, headers=headers, json={**body, "name": "other"}, timeout=60)
    assert other.status_code == 422 and other.json()["type"] == "idempotency-key-reused"
    assert audit_tenant(world, tenant_id, servers=1) == {
        "duplicates": 0,
        "orphans": 0,
        "lost": 0,
        "stuck": 0,
    }
