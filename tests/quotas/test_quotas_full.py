"""Platform quotas against a real full OpenStack pool, through the API of a served
process on PostgreSQL: 100 concurrent creates with room for one, give-back on delete,
limits pushed down to the tenant's project (read back from Nova and Neutron as the pool's
admin with openstacksdk), drift against the pool reported."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tenantfusion.config import Settings
from tenantfusion.db import engine_for, session_factory, upgrade
from tenantfusion.platform import service as platform_service
from tenantfusion.testbed import PoolInfo, connect, ensure_pools
from tests.conftest import ADMIN_PASSWORD, PG_ADMIN_DSN, TEST_KEY, TESTBED_ROOT, pool_body
from tests.live import free_port, serve_env, serving

pytestmark = [pytest.mark.pools, pytest.mark.postgres]

CLIENTS = 100
POOL = "qfull"


@dataclass
class Served:
    url: str
    admin: dict[str, str]
    pool: PoolInfo


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One `serve` replica (worker included) on a PostgreSQL database of its own, with the
    test bed's first full pool registered; the database dropped afterwards."""
    info = ensure_pools(count=1, kind="full", root=TESTBED_ROOT)[0]
    folder: Path = tmp_path_factory.mktemp("quotas")
    name, password = f"tf_quota_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        conn.execute(f"CREATE DATABASE {name} OWNER {name}")
    url = f"postgresql+psycopg://{name}:{password}@127.0.0.1:5432/{name}"
    settings = Settings(database_url=url, secret_key=TEST_KEY)  # type: ignore[arg-type]
    try:
        upgrade(settings)
        with session_factory(settings)() as db:
            platform_service.create_platform_admin(db=db, username="root", password=ADMIN_PASSWORD)
            db.commit()
        env = serve_env(
            database_url=url,
            data_dir=folder,
            key=TEST_KEY,
            TENANTFUSION_POOL_TIMEOUT_SECONDS="30",
            TENANTFUSION_OPERATION_DEADLINE_SECONDS="45",
            TENANTFUSION_RUN_RECONCILER="false",
        )
        with serving(env, port=free_port(), log=folder / "serve.log") as base:
            r = httpx.post(
                f"{base}/v1/auth/tokens", json={"username": "root", "password": ADMIN_PASSWORD}
            )
            admin = {"X-Auth-Token": r.json()["token"]}
            r = httpx.post(
                f"{base}/v1/pools", headers=admin, json=pool_body(info, POOL), timeout=60
            )
            assert r.status_code == 201, r.text
            yield Served(url=base, admin=admin, pool=info)
    finally:
        engine_for(url).dispose()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {name}")


@pytest.fixture
def tenant(served: Served) -> Iterator[tuple[str, dict[str, str], str]]:
    """A tenant onboarded in the pool: (id, its admin's headers, its project id); purged
    from the pool (project, user, objects) afterwards."""
    name = f"q-{uuid.uuid4().hex[:8]}"
    r = httpx.post(
        f"{served.url}/v1/tenants",
        headers=served.admin,
        json={"name": name, "admin": {"username": "boss", "password": "boss-password"}},
    )
    assert r.status_code == 201, r.text
    tenant_id = r.json()["id"]
    r = httpx.post(
        f"{served.url}/v1/auth/tokens",
        json={"tenant": name, "username": "boss", "password": "boss-password"},
    )
    boss = {"X-Auth-Token": r.json()["token"]}
    r = httpx.put(f"{served.url}/v1/tenants/{tenant_id}/mappings/{POOL}", headers=boss, timeout=120)
    assert r.status_code in (200, 201), r.text
    yield tenant_id, boss, r.json()["remote_id"]
    r = httpx.delete(
        f"{served.url}/v1/tenants/{tenant_id}", headers=served.admin, params={"purge": "true"}
    )
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 300
    while (
        state := httpx.get(f"{served.url}/v1/jobs/{r.json()['id']}", headers=served.admin).json()[
            "state"
        ]
    ) not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, "tenant purge did not finish"
        time.sleep(1)
    assert state == "succeeded"


def _quotas(served: Served, tenant_id: str, headers: dict[str, str], **params: str) -> Any:
    r = httpx.get(
        f"{served.url}/v1/tenants/{tenant_id}/quotas", headers=headers, params=params, timeout=60
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_100_concurrent_creates_with_room_for_one(
    served: Served, tenant: tuple[str, dict[str, str], str]
) -> None:
    tenant_id, boss, project_id = tenant
    r = httpx.put(
        f"{served.url}/v1/tenants/{tenant_id}/quotas",
        headers=served.admin,
        json={"networks": 1},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert r.json()["pushed"] == {POOL: "ok"}
    start = threading.Barrier(CLIENTS)

    def create(i: int) -> httpx.Response:
        with httpx.Client(base_url=served.url, timeout=300) as client:
            start.wait()
            return client.post("/v1/networks", headers=boss, json={"name": f"n{i}", "pool": POOL})

    began = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as ex:
        answers = list(ex.map(create, range(CLIENTS)))
    took = time.monotonic() - began
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 1, 409: CLIENTS - 1}, statuses
    for a in answers:
        if a.status_code == 409:
            assert a.headers["content-type"].startswith("application/problem+json")
            body = a.json()
            assert body["type"] == "quota-exceeded", body
            assert (body["resource"], body["limit"], body["usage"]) == ("networks", 1, 1)
    [made] = [a.json() for a in answers if a.status_code == 201]
    print(f"\n{CLIENTS} concurrent creates answered in {took:.1f} s: {dict(statuses)}")

    admin = connect(served.pool)
    held = [n.id for n in admin.network.networks(project_id=project_id)]
    assert held == [made["remote_id"]]  # the pool holds exactly the one
    assert _quotas(served, tenant_id, boss)["resources"]["networks"] == {
        "limit": 1,
        "usage": 1,
        "reserved": 0,
    }
    # given back on delete: room for one again
    r = httpx.delete(f"{served.url}/v1/networks/{made['id']}", headers=boss, timeout=60)
    assert r.status_code == 204, r.text
    assert _quotas(served, tenant_id, boss)["resources"]["networks"]["usage"] == 0
    r = httpx.post(
        f"{served.url}/v1/networks", headers=boss, json={"name": "again", "pool": POOL}, timeout=60
    )
    assert r.status_code == 201, r.text


def test_limits_are_pushed_down_and_drift_is_reported(
    served: Served, tenant: tuple[str, dict[str, str], str]
) -> None:
    tenant_id, boss, project_id = tenant
    base = f"{served.url}/v1/tenants/{tenant_id}/quotas"
    limits = {"servers": 7, "vcpus": 9, "ram_mb": 4096, "networks": 6, "routers": 3}
    r = httpx.put(base, headers=served.admin, json={**limits, "floating_ips": 2}, timeout=60)
    assert r.status_code == 200, r.text
    r = httpx.put(f"{base}/{POOL}", headers=served.admin, json={"networks": 4}, timeout=60)
    assert r.status_code == 200 and r.json()["pushed"] == {POOL: "ok"}, r.text
    assert r.json()["pools"][POOL]["networks"]["limit"] == 4

    admin = connect(served.pool)
    nova = admin.compute.get_quota_set(project_id)
    assert (nova.instances, nova.cores, nova.ram) == (7, 9, 4096)
    neutron = admin.network.get_quota(project_id)
    assert (neutron.networks, neutron.routers, neutron.floating_ips) == (4, 3, 2)

    # a tenant admin may read, not set
    shown = _quotas(served, tenant_id, boss)
    assert shown["resources"]["servers"] == {"limit": 7, "usage": 0, "reserved": 0}
    r = httpx.put(base, headers=boss, json={"servers": 100})
    assert r.status_code == 403 and r.json()["type"] == "forbidden"

    # cleared: the pool's defaults come back
    r = httpx.put(base, headers=served.admin, json={}, timeout=60)
    assert r.status_code == 200, r.text
    r = httpx.put(f"{base}/{POOL}", headers=served.admin, json={}, timeout=60)
    assert r.status_code == 200, r.text
    defaults = admin.compute.get_quota_set_defaults(project_id)
    nova = admin.compute.get_quota_set(project_id)
    assert (nova.instances, nova.cores, nova.ram) == (
        defaults.instances,
        defaults.cores,
        defaults.ram,
    )
    assert admin.network.get_quota(project_id).networks == (
        admin.network.get_quota_default(project_id).networks
    )

    # drift: the records agree with the pool, until something appears behind their back
    made = httpx.post(
        f"{served.url}/v1/networks", headers=boss, json={"name": "mine", "pool": POOL}, timeout=60
    )
    assert made.status_code == 201, made.text
    assert _quotas(served, tenant_id, boss, reconcile="true")["drift"] == []
    admin.network.create_network(name="behind-the-back", project_id=project_id)
    found = _quotas(served, tenant_id, boss, reconcile="true")
    assert found["drift"] == [{"pool": POOL, "resource": "networks", "records": 1, "pool_count": 2}]
    assert found["unreachable"] == []


def test_a_server_charges_its_flavor_and_gives_it_back(
    served: Served, tenant: tuple[str, dict[str, str], str]
) -> None:
    tenant_id, boss, _ = tenant
    api = httpx.Client(base_url=served.url, headers=boss, timeout=120)
    network = api.post("/v1/networks", json={"name": "srv", "pool": POOL}).json()
    r = api.post(
        "/v1/subnets", json={"name": "srv", "network": network["id"], "cidr": "10.81.0.0/24"}
    )
    assert r.status_code == 201, r.text
    flavor = next(
        f
        for f in api.get("/v1/flavors", params={"pool": POOL}).json()["items"]
        if f["name"] == "m1.nano"
    )
    r = httpx.put(
        f"{served.url}/v1/tenants/{tenant_id}/quotas",
        headers=served.admin,
        json={"vcpus": flavor["vcpus"]},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    body = {"flavor": "m1.nano", "image": "cirros-tiny", "network": network["id"]}
    first = api.post("/v1/servers", json={"name": "s1", **body})
    assert first.status_code == 201, first.text
    used = _quotas(served, tenant_id, boss)["resources"]
    assert used["servers"]["usage"] == 1 and used["vcpus"]["usage"] == flavor["vcpus"]
    assert used["ram_mb"]["usage"] == flavor["ram_mb"]
    second = api.post("/v1/servers", json={"name": "s2", **body})
    assert second.status_code == 409 and second.json()["type"] == "quota-exceeded"
    assert (second.json()["resource"], second.json()["limit"]) == ("vcpus", flavor["vcpus"])

    job = api.delete(f"/v1/servers/{first.json()['id']}").json()
    deadline = time.monotonic() + 180
    while api.get(f"/v1/jobs/{job['id']}").json()["state"] != "succeeded":
        assert time.monotonic() < deadline, "server delete did not finish"
        time.sleep(1)
    assert _quotas(served, tenant_id, boss)["resources"]["vcpus"]["usage"] == 0
