"""The world of the fault test and bench: one `tenantfusion serve` on a fresh PostgreSQL
database, two real full pools (east, west), tenant ``calm`` with a server in east only and
tenant ``hit`` with a server in each pool. Then west's APIs hang or die while both tenants
list, `/healthz` is polled and PostgreSQL is watched for connections held in a transaction.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tenantfusion.config import Settings
from tenantfusion.db import session_factory, upgrade
from tenantfusion.platform import service as platform_service
from tenantfusion.testbed import PoolInfo
from tests.conftest import (
    ADMIN_PASSWORD,
    PG_ADMIN_DSN,
    TEST_KEY,
    _drop_pg_database,
    _pg_database,
    pool_body,
)
from tests.live import Samples, free_port, sample, serve_env, serving, timer

CIDRS = {"east": "10.78.1.0/24", "west": "10.78.2.0/24"}
#: Seconds a pool call may take; the operation deadline is a little longer.
POOL_TIMEOUT = 5.0


@dataclass
class World:
    http: httpx.Client
    admin: dict[str, str]
    calm: dict[str, str]
    hit: dict[str, str]
    database: str
    envs: dict[bool, dict[str, str]]
    log: Path
    servers: dict[str, str] = field(default_factory=dict)  # name -> platform id
    owners: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> headers

    @contextmanager
    def served(self, *, patient: bool) -> Iterator[httpx.Client]:
        """Another replica on the same database, ``patient`` (a 30 s pool timeout, for
        setting up on a loaded machine) or not (``POOL_TIMEOUT``); ``http`` talks to it
        meanwhile."""
        before = self.http
        with (
            serving(self.envs[patient], port=free_port(), log=self.log) as base,
            httpx.Client(base_url=base, timeout=300) as http,
        ):
            self.http = http
            try:
                yield http
            finally:
                self.http = before


def tenant(http: httpx.Client, admin: dict[str, str], name: str) -> dict[str, str]:
    r = http.post(
        "/v1/tenants",
        headers=admin,
        json={"name": name, "admin": {"username": "boss", "password": "boss-password"}},
    )
    assert r.status_code == 201, r.text
    r = http.post(
        "/v1/auth/tokens", json={"tenant": name, "username": "boss", "password": "boss-password"}
    )
    assert r.status_code == 201, r.text
    return {"X-Auth-Token": r.json()["token"]}


def server(world: World, headers: dict[str, str], name: str, pool: str) -> None:
    r = world.http.post(
        "/v1/servers",
        headers=headers,
        json={"name": name, "pool": pool, "flavor": "m1.nano", "image": "cirros-tiny"},
    )
    assert r.status_code == 201, r.text
    world.servers[name] = r.json()["id"]
    world.owners[name] = headers


@contextmanager
def fault_world(pools: list[PoolInfo], tmp_path: Path, *, concurrency: int = 2) -> Iterator[World]:
    """Register east and west, make the tenants and their servers (on a patient replica),
    serve with a short pool timeout; delete the servers and drop the database afterwards."""
    database = f"tf_faults_{uuid.uuid4().hex[:8]}"
    url = _pg_database(database)
    settings = Settings(database_url=url, secret_key=TEST_KEY)  # type: ignore[arg-type]
    upgrade(settings)
    with session_factory(settings)() as db:
        platform_service.create_platform_admin(db=db, username="root", password=ADMIN_PASSWORD)
        db.commit()
    envs = {
        patient: serve_env(
            database_url=url,
            data_dir=tmp_path,
            key=TEST_KEY,
            TENANTFUSION_POOL_TIMEOUT_SECONDS=str(30 if patient else POOL_TIMEOUT),
            TENANTFUSION_OPERATION_DEADLINE_SECONDS=str(45 if patient else POOL_TIMEOUT + 1),
            TENANTFUSION_POOL_CONCURRENCY=str(concurrency),
            # no reconciler (it passes once at every start): a pool registered twice
            # (``slow`` is west's cloud) shares one Keystone, and reconciling one adopts
            # the other's tagged project, a new credential the other then does not have
            TENANTFUSION_RUN_RECONCILER="false",
        )
        for patient in (True, False)
    }
    try:
        with (
            serving(envs[True], port=free_port(), log=tmp_path / "serve.log") as base,
            httpx.Client(base_url=base, timeout=300) as http,
        ):
            r = http.post("/v1/auth/tokens", json={"username": "root", "password": ADMIN_PASSWORD})
            admin = {"X-Auth-Token": r.json()["token"]}
            for name, info in zip(CIDRS, pools, strict=True):
                body = {**pool_body(info, name), "default_network_cidr": CIDRS[name]}
                r = http.post("/v1/pools", headers=admin, json=body)
                assert r.status_code == 201, r.text
            suffix = uuid.uuid4().hex[:6]
            world = World(
                http=http,
                admin=admin,
                calm=tenant(http, admin, f"calm-{suffix}"),
                hit=tenant(http, admin, f"hit-{suffix}"),
                database=database,
                envs=envs,
                log=tmp_path / "serve.log",
            )
            server(world, world.calm, "calm-east", "east")
            server(world, world.hit, "hit-east", "east")
            server(world, world.hit, "hit-west", "west")
            try:
                with world.served(patient=False):
                    warm(world, world.calm, {"east"})
                    warm(world, world.hit, {"east", "west"})
                    yield world
            finally:
                _cleanup(world)
    finally:
        _drop_pg_database(database)


def warm(world: World, headers: dict[str, str], pools: set[str]) -> dict[str, Any]:
    """The tenant's list once every pool in ``pools`` answers it (a cold session's first
    token on a loaded machine, or a breaker still open after a fault, may need a few
    tries)."""
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = world.http.get("/v1/servers", headers=headers).json()
        if body["pools"] == dict.fromkeys(pools, "ok"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(1)


def _cleanup(world: World) -> None:
    """Delete every server (retrying while a breaker still fails its pool fast)."""
    jobs = []
    deadline = time.monotonic() + 120
    for name, server_id in world.servers.items():
        headers = world.owners[name]
        while True:
            r = world.http.delete(f"/v1/servers/{server_id}", headers=headers)
            if r.status_code < 500 or time.monotonic() > deadline:
                break
            time.sleep(2)
        if r.status_code == 202:
            jobs.append((headers, r.json()["id"]))
    for headers, job in jobs:
        while time.monotonic() < deadline:
            state = world.http.get(f"/v1/jobs/{job}", headers=headers).json()["state"]
            if state in ("succeeded", "failed"):
                break
            time.sleep(1)


def held_in_transaction(database: str) -> int:
    """Connections of ``database`` sitting idle inside an open transaction for over a
    second now (between two queries of a request it is a matter of milliseconds; across
    a call into a hung pool, of seconds)."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND state = 'idle in transaction' AND now() - state_change > interval '1 second'",
            (database,),
        ).fetchone()
    return int(row[0]) if row else 0


@dataclass
class Load:
    """What happened while west was faulted (or not)."""

    calm: Samples
    hit: list[Samples]
    healthz: Samples
    held_max: int


def run_load(
    world: World, seconds: float, *, hitters: int = 4, hit: dict[str, str] | None = None
) -> Load:
    """For ``seconds``: tenant calm lists its servers (east only) back to back, ``hitters``
    clients of tenant hit (or ``hit``'s headers) list theirs (east + the faulted pool),
    `/healthz` every 50 ms, and PostgreSQL is polled for connections held in a
    transaction."""
    base = str(world.http.base_url)
    results: dict[str, Any] = {"hit": []}
    held = [0]
    until = timer(seconds)

    def lister(key: str, headers: dict[str, str] | None, path: str, pause: float) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            got = sample(client, path, headers=headers, until=until, pause=pause)
        if key == "hit":
            results["hit"].append(got)
        else:
            results[key] = got

    def watch() -> None:
        while not until():
            held[0] = max(held[0], held_in_transaction(world.database))
            time.sleep(0.3)

    threads = [
        threading.Thread(target=lister, args=("calm", world.calm, "/v1/servers", 0.0)),
        threading.Thread(target=lister, args=("healthz", None, "/healthz", 0.05)),
        threading.Thread(target=watch),
        *[
            threading.Thread(target=lister, args=("hit", hit or world.hit, "/v1/servers", 0.0))
            for _ in range(hitters)
        ],
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Load(
        calm=results["calm"], hit=results["hit"], healthz=results["healthz"], held_max=held[0]
    )
