"""Several replicas for real (issue 10): two `tenantfusion serve` processes on one
PostgreSQL database (own role and database) behind Debian's HAProxy on loopback, two
real full pools, and a bounded mixed load through the balancer: server creates with lazy
onboarding (each sent twice at once with the same body and ``Idempotency-Key``, so the
copies race on different replicas), lists all along, deletes (each also retried).

Then, in each pool's own API as its admin: exactly one project and one user per tenant
and pool, exactly one server per create request still alive, no server without a record
and no record without its server; every delete job ends ``succeeded`` (0 lost).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest

from tenantfusion.config import Settings
from tenantfusion.db import engine_for, session_factory, upgrade
from tenantfusion.mapping.steps import tenant_tag
from tenantfusion.platform import service as platform_service
from tenantfusion.testbed import PoolInfo, connect, ensure_pools
from tests.conftest import ADMIN_PASSWORD, PG_ADMIN_DSN, TEST_KEY, pool_body
from tests.live import balanced, counter, free_port, serve_env, serving

pytestmark = [pytest.mark.pools, pytest.mark.postgres]

#: A pool's 502/503/504 (a loaded 2-core machine) is retried like a client would, with the
#: same key and body.
RETRIES = 3

CIDRS = {"east": "10.79.1.0/24", "west": "10.79.2.0/24"}
TENANTS = 2
SERVERS_PER_POOL = 2
FLAVOR_IMAGE = {"flavor": "m1.nano", "image": "cirros-tiny"}


@dataclass
class Replicas:
    lb: str
    direct: list[str]
    admin: dict[str, str]
    pools: dict[str, PoolInfo]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """A role and database of our own, two replicas, HAProxy in front; all stopped and
    dropped afterwards."""
    infos = dict(zip(CIDRS, ensure_pools(count=2, kind="full"), strict=True))
    folder = tmp_path_factory.mktemp("replicas")
    name, password = f"tf_rep_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)
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
        )
        with ExitStack() as stack:
            ports = [free_port(), free_port()]
            direct = [
                stack.enter_context(serving(env, port=p, log=folder / f"serve-{i}.log"))
                for i, p in enumerate(ports, 1)
            ]
            lb = stack.enter_context(
                balanced(
                    port=free_port(), backends=[f"127.0.0.1:{p}" for p in ports], folder=folder
                )
            )
            root = {"username": "root", "password": ADMIN_PASSWORD}
            r = httpx.post(f"{lb}/v1/auth/tokens", json=root)
            admin = {"X-Auth-Token": r.json()["token"]}
            for pool, info in infos.items():
                body = {**pool_body(info, pool), "default_network_cidr": CIDRS[pool]}
                r = httpx.post(f"{lb}/v1/pools", headers=admin, json=body, timeout=60)
                assert r.status_code == 201, r.text
            yield Replicas(lb=lb, direct=direct, admin=admin, pools=infos)
    finally:
        engine_for(url).dispose()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {name}")


@dataclass
class Tally:
    """What the load sent and got back."""

    sent: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    created: dict[str, set[str]] = field(default_factory=dict)  # key -> server ids answered
    jobs: list[tuple[dict[str, str], str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    errors: list[str] = field(default_factory=list)

    def note(self, what: str, r: httpx.Response) -> None:
        with self.lock:
            self.sent[what] += 1
            self.statuses[r.status_code] += 1
            if r.status_code >= 400 and not (what == "delete" and r.status_code == 404):
                self.errors.append(f"{what} {r.status_code} {r.text[:300]}")


def _tenant(lb: str, admin: dict[str, str], name: str) -> tuple[str, dict[str, str]]:
    r = httpx.post(
        f"{lb}/v1/tenants",
        headers=admin,
        json={"name": name, "admin": {"username": "boss", "password": "boss-password"}},
    )
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{lb}/v1/auth/tokens",
        json={"tenant": name, "username": "boss", "password": "boss-password"},
    )
    return r.json()["tenant"]["id"], {"X-Auth-Token": r.json()["token"]}


def _create(lb: str, tally: Tally, headers: dict[str, str], key: str, body: dict[str, Any]) -> None:
    for attempt in range(RETRIES + 1):
        r = httpx.post(
            f"{lb}/v1/servers", headers={**headers, "Idempotency-Key": key}, json=body, timeout=300
        )
        tally.note("create" if attempt == 0 else "create retry", r)
        if r.status_code not in (502, 503, 504):
            break
        time.sleep(2 + 3 * attempt)
    if r.status_code == 201:
        with tally.lock:
            tally.created.setdefault(key, set()).add(r.json()["id"])


def _delete(lb: str, tally: Tally, headers: dict[str, str], server_id: str) -> None:
    for _ in range(2):  # the client retries: the second finds it deleting (or gone)
        r = httpx.delete(f"{lb}/v1/servers/{server_id}", headers=headers, timeout=120)
        tally.note("delete", r)
        if r.status_code == 202:
            with tally.lock:
                tally.jobs.append((headers, r.json()["id"]))


def _lists(lb: str, tally: Tally, headers: dict[str, str], stop: threading.Event) -> None:
    with httpx.Client(base_url=lb, timeout=120) as client:
        while not stop.is_set():
            tally.note("list", client.get("/v1/servers", headers=headers))
            time.sleep(0.2)


def test_two_replicas_under_mixed_load(replicas: Replicas) -> None:
    lb = replicas.lb
    suffix = uuid.uuid4().hex[:6]
    tenants = dict(_tenant(lb, replicas.admin, f"rep{i}-{suffix}") for i in range(TENANTS))
    tally = Tally()
    stop = threading.Event()
    requests = [
        (headers, str(uuid.uuid4()), {"name": f"s{n}", "pool": pool, **FLAVOR_IMAGE})
        for headers in tenants.values()
        for pool in CIDRS
        for n in range(SERVERS_PER_POOL)
    ]
    with ThreadPoolExecutor(max_workers=len(requests) + TENANTS) as ex:
        listers = [ex.submit(_lists, lb, tally, h, stop) for h in tenants.values()]
        # every create twice at once, same key and body: the copies meet on both replicas
        for f in [ex.submit(_create, lb, tally, h, k, b) for h, k, b in requests for _ in (1, 2)]:
            f.result()
        doomed = [
            (headers, sorted(tally.created[key])[0])
            for headers, key, body in requests
            if body["name"] == "s0" and key in tally.created
        ]
        for f in [ex.submit(_delete, lb, tally, h, s) for h, s in doomed]:
            f.result()
        stop.set()
        for f in listers:
            f.result()

    # 0 lost jobs: every delete job accepted ends succeeded (the replicas' workers run them)
    deadline = time.monotonic() + 240
    pending = list(tally.jobs)
    states: dict[str, str] = {}
    while pending and time.monotonic() < deadline:
        headers, job = pending.pop(0)
        state = httpx.get(f"{lb}/v1/jobs/{job}", headers=headers).json()["state"]
        states[job] = state
        if state not in ("succeeded", "failed"):
            pending.append((headers, job))
            time.sleep(0.5)
    lost = [j for _, j in tally.jobs if states.get(j) != "succeeded"]
    sent = f"sent {dict(tally.sent)}, statuses {dict(tally.statuses)}, errors {tally.errors[:5]}"
    assert tally.statuses[500] == 0, sent  # 0 server errors (a pool's 502/504 is the pool's)
    assert len(tally.created) == len(requests), sent  # every create request got a server

    duplicates = {"projects": 0, "users": 0, "servers": 0}
    orphans, missing = 0, 0
    for pool, info in replicas.pools.items():
        conn = connect(info)
        for tenant_id, headers in tenants.items():
            projects = [p for p in conn.identity.projects() if tenant_tag(tenant_id) in p.tags]
            users = [u for u in conn.identity.users() if u.name.endswith(tenant_id)]
            duplicates["projects"] += len(projects) - 1
            duplicates["users"] += len(users) - 1
            in_pool = {
                s.id
                for p in projects
                for s in conn.compute.servers(all_projects=True, project_id=p.id)
            }
            listed = httpx.get(f"{lb}/v1/servers?pool={pool}&limit=1000", headers=headers).json()
            assert listed["pools"] == {pool: "ok"}, listed
            records = {i["remote_id"] for i in listed["items"]}
            orphans += len(in_pool - records)  # objects without a record
            missing += len(records - in_pool)  # records without an object
            asked = sum(1 for h, _, b in requests if h is headers and b["pool"] == pool)
            duplicates["servers"] += max(0, len(in_pool) - (asked - 1))  # s0 was deleted
    answered_twice = sum(1 for ids in tally.created.values() if len(ids) > 1)
    report = (
        f"{sent}, duplicates {duplicates}, "
        f"creates answered with two servers {answered_twice}, orphans {orphans}, "
        f"missing {missing}, delete jobs {len(tally.jobs)}, lost {len(lost)}"
    )
    print(report)
    assert duplicates["projects"] == 0 and duplicates["users"] == 0, report
    assert lost == [], report
    assert orphans == 0 and missing == 0, report
    assert duplicates["servers"] == 0 and answered_twice == 0, report


def test_a_revoked_token_is_refused_by_every_replica_within_1s(replicas: Replicas) -> None:
    _, headers = _tenant(replicas.lb, replicas.admin, f"rev-{uuid.uuid4().hex[:6]}")
    for base in replicas.direct:  # both replicas have the token in their cache now
        assert httpx.get(f"{base}/v1/servers", headers=headers).status_code == 200
    assert httpx.delete(f"{replicas.direct[0]}/v1/auth/tokens", headers=headers).status_code == 204
    revoked = time.monotonic()
    refused_after: dict[str, float] = {}
    while len(refused_after) < len(replicas.direct) and time.monotonic() - revoked < 10:
        for base in replicas.direct:
            if base not in refused_after:
                r = httpx.get(f"{base}/v1/servers", headers=headers)
                if r.status_code == 401:
                    refused_after[base] = time.monotonic() - revoked
        time.sleep(0.05)
    print(f"revoked token refused after {refused_after}")
    assert len(refused_after) == len(replicas.direct)
    assert max(refused_after.values()) <= 1.0, refused_after


def _list_records(base: str, admin: dict[str, str]) -> Counter[str]:
    """The replica's ``tenantfusion_list_records_total``, by source."""
    found = counter(base, admin, "tenantfusion_list_records_total", "source")
    return Counter({source: int(n) for source, n in found.items()})


def test_a_server_made_through_one_replica_is_listed_by_the_other_at_once(
    replicas: Replicas,
) -> None:
    """Replica B keeps the tenant's records in memory while it lists during a create made
    through replica A (so it holds them as they were before the create finished); the
    list B answers right after A answered the create has the new server. B's watcher
    sees A's write within its 0.5 s poll; before that, the new server in Nova's answer,
    with no record B knows, makes B read its records again. (The deterministic check of
    that reread: test_list_cache_unit.py.)"""
    a, b = replicas.direct
    _, headers = _tenant(replicas.lb, replicas.admin, f"fresh-{uuid.uuid4().hex[:6]}")
    first = httpx.post(
        f"{a}/v1/servers",
        headers=headers,
        json={"name": "f0", "pool": "east", **FLAVOR_IMAGE},
        timeout=300,
    )
    assert first.status_code == 201, first.text
    before = _list_records(b, replicas.admin)
    missed = []
    for n in range(1, 4):
        with ThreadPoolExecutor(max_workers=1) as ex:
            made = ex.submit(
                httpx.post,
                f"{a}/v1/servers",
                headers=headers,
                json={"name": f"f{n}", "pool": "east", **FLAVOR_IMAGE},
                timeout=300,
            )
            while not made.done():  # B lists (and keeps) all along the create
                assert httpx.get(f"{b}/v1/servers", headers=headers).status_code == 200
                time.sleep(0.05)
            created = made.result()
        listed = httpx.get(f"{b}/v1/servers?pool=east", headers=headers).json()
        assert created.status_code == 201, created.text
        if created.json()["id"] not in {i["id"] for i in listed["items"]}:
            missed.append(created.json()["name"])
    # which way B got there depends on timing (did its watcher see A's write before B's
    # list?): printed, not asserted; with the reread disabled, a server goes missing
    sources = _list_records(b, replicas.admin) - before
    print(f"replica B's list records by source during the creates: {dict(sources)}")
    assert missed == [], (missed, sources)
