r"""Scale benchmark: tenantfusion at distributed-cloud size, on this machine.

Every pool here is a POOL SIMULATOR (bench/simpool.py), behind tenantfusion's real driver
interface, used only for scale: correctness is proven on real OpenStack pools by the
test suite. The database is the machine's PostgreSQL (a database made for the run, dropped
afterwards).

1) pools: N registered pools; the reconciler's health sweep of all of them (bounded
   concurrency, per-pool timeout; a few pools never answer), the scheduler's decision,
   ``GET /v1/pools`` walked page by page through a served tenantfusion;
2) records: R routing records of T tenants bulk-loaded (COPY); a tenant's first list page
   (the real list path, simulated pools answering from memory), a mapping lookup through
   ``mapping.service.get`` and a record insert through ``resources.service.begin`` (quota
   lock, limit check, commit), each alternated with the same work sent bare through psycopg
   (the floor the server and the machine set), memory of the process;
3) clients: C concurrent httpx clients (bounded, loopback) mixing network creates, lists
   and deletes across P simulated pools against ``tenantfusion serve``, 1 and 2 replicas;
   a transport error is reported with the kind of connection it happened on;
4) profile (``--profile``): where the time goes at the largest size.

Latencies are wall-clock p50/p99 with this process's CPU time per operation beside them
(the load of a shared machine stretches the tail, not the CPU time).

The issue's sizes (about 10 minutes on 2 busy cores: part 1 ~2.5 min, part 2 ~2 min of
which 70 s is the COPY, part 3 ~2.5 min per replica count; ``--parts`` runs a subset):

    .venv/bin/python bench/bench_scale.py --pools 10000 --records 1000000 --tenants 100000 \
        --clients 500 --sim-pools 100 --profile

The server is ``TENANTFUSION_TEST_PG`` (default postgresql://postgres@127.0.0.1:5432/postgres;
its user needs CREATEDB): each part makes its own database and drops it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography.fernet import Fernet
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench import simpool  # noqa: E402
from bench.common import free_port, pct  # noqa: E402
from tenantfusion.config import Settings  # noqa: E402
from tenantfusion.crypto import encrypt_json  # noqa: E402
from tenantfusion.db import engine_for, new_id, session_factory, upgrade  # noqa: E402
from tenantfusion.mapping import service as mapping_service  # noqa: E402
from tenantfusion.platform import service as platform_service  # noqa: E402
from tenantfusion.platform.models import Role  # noqa: E402
from tenantfusion.platform.principal import SYSTEM, Principal  # noqa: E402
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate  # noqa: E402
from tenantfusion.pools.drivers.base import PoolAuth  # noqa: E402
from tenantfusion.pools.drivers.remote import RemoteObject, record_description  # noqa: E402
from tenantfusion.reconciler import health  # noqa: E402
from tenantfusion.resources import networks  # noqa: E402
from tenantfusion.resources import service as record_service  # noqa: E402
from tenantfusion.resources.scheduler import choose  # noqa: E402
from tenantfusion.resources.schemas import ListQuery  # noqa: E402

PG_ADMIN_DSN = os.environ.get(
    "TENANTFUSION_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ADMIN_PASSWORD = "bench-admin-pass"  # noqa: S105 - a throwaway database's admin
rows: list[tuple[str, str, str]] = []  # (measure, value, goal) for the final table


def row(measure: str, value: str, goal: str = "") -> None:
    rows.append((measure, value, goal))
    print(f"   {measure:<58} {value:>22}  {goal}", flush=True)


def ms(values: list[float], cpu: float | None = None) -> str:
    text = f"p50 {statistics.median(values):.2f} / p99 {pct(values, 0.99):.2f} ms"
    return text if cpu is None else f"{text}, CPU {cpu:.2f} ms/op"


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def measured(fn: Callable[[Any], Any], items: list[Any]) -> str:
    """``fn(item)`` for every item: wall-clock p50/p99 and this thread's CPU per call
    (robust to the machine's load, which stretches the wall-clock tail)."""
    lat: list[float] = []
    cpu = time.thread_time()
    for item in items:
        lat.append(timed(partial(fn, item)))
    return ms(lat, (time.thread_time() - cpu) * 1000 / len(items))


def rss_mb(pid: int | None = None) -> float:
    """Resident memory now (``VmRSS``) of this process or ``pid``, in MiB."""
    for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def pg_database(label: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the machine's server (dropped afterwards)."""
    name = f"tf_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_settings(url: str, data_dir: Path, key: str, **extra: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        database_url=url,
        data_dir=data_dir,
        secret_key=key,
        run_worker=False,
        log_level="WARNING",
        **extra,
    )


def copy_rows(
    url: str, table: str, columns: tuple[str, ...], values: Iterator[tuple[Any, ...]]
) -> None:
    """Bulk-load ``values`` into ``table`` with PostgreSQL's COPY."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for value in values:
                copy.write_row(value)
        conn.commit()


def add_pools(
    *, url: str, settings: Settings, count: int, down_every: int = 0, driver: str = "sim"
) -> list[str]:
    """Register ``count`` simulated pools straight in the table (their check is the sweep's
    job); every ``down_every``-th one never answers. Returns their ids."""
    now = datetime.now(UTC)
    ids: list[str] = []

    def values() -> Iterator[tuple[Any, ...]]:
        for i in range(count):
            down = bool(down_every) and i % down_every == down_every - 1
            url = simpool.sim_url(f"sim{i:05d}", down=down)
            auth = PoolAuth(auth_url=url, username="admin", password="admin-pass")
            pool_id = new_id()
            ids.append(pool_id)
            yield (
                pool_id,
                f"sim{i:05d}",
                driver,
                url,
                "Default",
                encrypt_json(auth.to_dict(), settings=settings),
                "ok",
                "",
                '["identity", "compute", "network", "placement"]',
                "[]",
                "{}",
                True,
                now,
                now,
            )

    copy_rows(
        url,
        "pool",
        (
            "id", "name", "driver", "auth_url", "project_domain", "credential", "status",
            "status_reason", "services", "features", "labels", "is_enabled", "created_at",
            "updated_at",
        ),
        values(),
    )  # fmt: skip
    return ids


# --- 1) pools ---------------------------------------------------------------------------


def pools_part(args: argparse.Namespace) -> None:
    n = args.pools
    print(
        f"\n1) {n} registered pools (POOL SIMULATORS: check answers in "
        f"{simpool.CHECK_SECONDS * 1000:.0f} ms; 1 in {args.down_every} never answers)"
    )
    data_dir = Path(tempfile.mkdtemp(prefix="tf-bench-scale-"))
    key = Fernet.generate_key().decode()
    with pg_database("pools") as url:
        settings = bench_settings(
            url,
            data_dir,
            key,
            health_sweep_concurrency=args.sweep_concurrency,
            pool_timeout_seconds=args.pool_timeout,
        )
        upgrade(settings)
        add_pools(url=url, settings=settings, count=n, down_every=args.down_every)
        sessions = session_factory(settings)
        with sessions() as db:
            tenant = platform_service.create_tenant(
                db=db,
                actor=SYSTEM,
                data=TenantCreate(
                    name="t", admin=TenantAdmin(username="boss", password="boss-pass")
                ),
            )
            platform_service.create_platform_admin(db=db, username="root", password=ADMIN_PASSWORD)
            db.commit()
            tenant_id = tenant.id

        def sweep() -> dict[str, str]:
            return health.sweep(sessions=sessions, settings=settings)

        t = time.perf_counter()
        statuses = sweep()
        took = time.perf_counter() - t
        down = sum(1 for s in statuses.values() if s == "unreachable")
        assert len(statuses) == n and down == n // args.down_every, (len(statuses), down)
        row(
            f"health sweep of {n} pools ({args.sweep_concurrency} at once, "
            f"timeout {args.pool_timeout:g} s, {down} down)",
            f"{took:.1f} s",
            "goal <= 30 s",
        )
        if args.profile:
            profile("health sweep", sweep)

        def decide() -> None:
            with sessions() as db:
                choose(
                    db=db,
                    settings=settings,
                    tenant_id=tenant_id,
                    requested=None,
                    selector=None,
                    needs=("compute", "network"),
                )

        decide()
        took = measured(lambda _: decide(), list(range(args.decisions)))
        row(f"scheduler decision among {n} pools", took, "goal p99 <= 50 ms")
        if args.profile:
            profile("scheduler decision", lambda: [decide() for _ in range(20)])

        env = {
            "TENANTFUSION_DATABASE_URL": url,
            "TENANTFUSION_DATA_DIR": str(data_dir),
            "TENANTFUSION_SECRET_KEY": key,
            "TENANTFUSION_RUN_WORKER": "false",
            "TENANTFUSION_LOG_LEVEL": "WARNING",
        }
        with serve_replicas(env, replicas=1) as (bases, _):
            login = {"username": "root", "password": ADMIN_PASSWORD}
            token = httpx.post(f"{bases[0]}/v1/auth/tokens", json=login).json()["token"]
            client = httpx.Client(base_url=bases[0], headers={"X-Auth-Token": token}, timeout=60)
            pages: list[float] = []
            seen = 0
            params: dict[str, Any] = {"limit": args.page_size}
            t = time.perf_counter()
            while True:
                started = time.perf_counter()
                r = client.get("/v1/pools", params=params)
                pages.append((time.perf_counter() - started) * 1000)
                r.raise_for_status()
                body = r.json()
                seen += len(body["items"])
                if not body["next_marker"]:
                    break
                params["marker"] = body["next_marker"]
            walk = time.perf_counter() - t
            assert seen == n, seen
            row(
                f"GET /v1/pools, {len(pages)} pages of {args.page_size} (walk {walk:.1f} s)",
                ms(pages),
            )


# --- 2) records -------------------------------------------------------------------------


def records_part(args: argparse.Namespace) -> None:
    n_records, n_tenants, n_pools = args.records, args.tenants, args.sim_pools
    print(
        f"\n2) {n_records} routing records of {n_tenants} tenants in {n_pools} pools "
        "(POOL SIMULATORS answer lists from memory), PostgreSQL"
    )
    data_dir = Path(tempfile.mkdtemp(prefix="tf-bench-scale-"))
    key = Fernet.generate_key().decode()
    with pg_database("records") as url:
        settings = bench_settings(url, data_dir, key)
        upgrade(settings)
        pool_ids = add_pools(url=url, settings=settings, count=n_pools)
        t = time.perf_counter()
        tenants = [new_id() for _ in range(n_tenants)]
        now = datetime.now(UTC)
        copy_rows(
            url,
            "tenant",
            ("id", "name", "description", "is_enabled", "created_at", "updated_at"),
            ((tid, f"t{i:07d}", "", True, now, now) for i, tid in enumerate(tenants)),
        )
        # every tenant has a platform-wide limit on networks (inserts take its quota lock)
        copy_rows(url, "tenant_quota", ("tenant_id", "version", "updated_at"),
                  ((tid, 0, now) for tid in tenants))  # fmt: skip
        copy_rows(url, "quota_limit", ("id", "tenant_id", "pool_id", "resource", "hard_limit"),
                  ((new_id(), tid, None, "networks", 1000) for tid in tenants))  # fmt: skip
        password = encrypt_json({"password": "pool-user-pass"}, settings=settings)
        # every tenant has a project in two pools
        homes = {
            tid: (pool_ids[i % n_pools], pool_ids[(i * 7 + 1) % n_pools])
            for i, tid in enumerate(tenants)
        }
        mapping_rows = [
            (new_id(), tid, pid, "active", "", "", f"tf-{tid}", f"proj-{tid}-{k}", f"tf-{tid}",
             "u", password, "password_fallback", False, now, now)
            for tid, pids in homes.items()
            for k, pid in enumerate(dict.fromkeys(pids))
        ]  # fmt: skip
        copy_rows(
            url,
            "mapping",
            (
                "id", "tenant_id", "pool_id", "state", "reason", "last_step", "project_name",
                "project_remote_id", "user_name", "user_remote_id", "credential", "auth_kind",
                "is_adopted", "created_at", "updated_at",
            ),
            iter(mapping_rows),
        )  # fmt: skip
        projects = {(m[1], m[2]): m[7] for m in mapping_rows}
        start = now - timedelta(days=365)

        def records() -> Iterator[tuple[Any, ...]]:
            for i in range(n_records):
                tid = tenants[i % n_tenants]
                pid = homes[tid][(i // n_tenants) % 2]
                at = start + timedelta(seconds=i * 10)
                yield (new_id(), tid, pid, "network", f"net-{i}", f"n{i}", "active", "", at, at)

        copy_rows(
            url,
            "routing_record",
            ("id", "tenant_id", "pool_id", "kind", "remote_id", "name", "state", "reason",
             "created_at", "updated_at"),
            records(),
        )  # fmt: skip
        with engine_for(url).begin() as conn:
            conn.execute(text("ANALYZE"))
        row("bulk load (COPY): tenants, mappings, records", f"{time.perf_counter() - t:.1f} s")
        sessions = session_factory(settings)
        rng = random.Random(13)  # noqa: S311 - a sample, not a secret
        sample = rng.sample(tenants, min(args.samples, n_tenants))
        # the sampled tenants' objects exist in their simulated pools
        with sessions() as db:
            pools = {
                p.id: p
                for p in db.query(__import__("tenantfusion.pools.models", fromlist=["Pool"]).Pool)
            }
            found = db.execute(
                text(
                    "SELECT id, tenant_id, pool_id, remote_id, name FROM routing_record "
                    "WHERE tenant_id = ANY(:ids)"
                ),
                {"ids": sample},
            ).all()
        drivers: dict[str, simpool.SimDriver] = {}
        for record_id, tid, pid, remote_id, name in found:
            pool = pools[pid]
            driver = drivers.setdefault(
                pid, simpool.SimDriver(PoolAuth(pool.auth_url, "a", "p"), pool=pool.name, timeout=5)
            )
            project = projects[(tid, pid)]
            obj = RemoteObject(
                kind="network", remote_id=remote_id, name=name, status="ACTIVE",
                project_id=project, description=record_description(record_id),
            )  # fmt: skip
            driver.seed(project_id=project, objects=[obj])

        def actor(tid: str) -> Principal:
            return Principal(user_id="bench", username="u", role=Role.tenant_admin, tenant_id=tid)

        def first_page(tid: str) -> int:
            with sessions() as db:
                page = networks.list_(db=db, actor=actor(tid), settings=settings, query=ListQuery())
            return len(page.items)

        for tid in sample[:20]:  # warm: sessions cached, as in a running replica
            first_page(tid)
        took = measured(first_page, sample)
        per = n_records // n_tenants
        assert first_page(sample[0]) == min(per, 100)
        row(f"tenant's first list page ({per} records, 2 pools)", took, "goal p99 <= 50 ms")

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with sessions() as db, psycopg.connect(dsn, autocommit=True) as raw:
            # inside a request's open session, as the routes do; alternated with the same
            # lookup sent bare through the driver (the server's and the machine's floor)
            def lookup(tid: str) -> None:
                assert mapping_service.get(db=db, tenant_id=tid, pool_id=homes[tid][0])

            def bare_lookup(tid: str) -> None:
                sql = "SELECT * FROM mapping WHERE tenant_id = %s AND pool_id = %s"
                assert raw.execute(sql, (tid, homes[tid][0]), prepare=True).fetchone()

            for tid in sample[:20]:
                lookup(tid)
            took, floor = alternated(lookup, bare_lookup, sample)
        row("mapping lookup (tenant, pool), in an open session", took, "goal p99 <= 2 ms")
        row("  same lookup bare through psycopg, alternated (floor)", floor)

        def insert(tid: str) -> None:
            with sessions() as db:
                record_service.begin(
                    db=db, tenant_id=tid, pool_id=homes[tid][0], kind="network", name="new"
                )

        with psycopg.connect(dsn) as raw:
            raw.execute("CREATE TABLE commit_probe (id serial PRIMARY KEY, v text)")
            raw.commit()

            def bare_commit(_: str) -> None:
                raw.execute("INSERT INTO commit_probe (v) VALUES ('x')")
                raw.commit()

            took, floor = alternated(insert, bare_commit, sample)
        row("record insert (quota lock + limit check, committed)", took, "goal p99 <= 5 ms")
        row("  bare INSERT + COMMIT (WAL flush), alternated (floor)", floor)
        row("memory (RSS) of this process after the measures", f"{rss_mb():.0f} MiB")
        if args.profile:
            profile("first list page", lambda: [first_page(tid) for tid in sample[:200]])
            profile("record insert", lambda: [insert(tid) for tid in sample[:200]])
        if args.explain:
            explain(url, tenants[0], homes[tenants[0]][0])


def alternated(
    fn: Callable[[Any], Any], floor: Callable[[Any], Any], items: list[Any]
) -> tuple[str, str]:
    """``fn`` and ``floor`` called alternately on each item (so both see the same load)."""
    lat: dict[int, list[float]] = {0: [], 1: []}
    cpu = {0: 0.0, 1: 0.0}
    for item in items:
        for k, call in enumerate((fn, floor)):
            started = time.thread_time()
            lat[k].append(timed(partial(call, item)))
            cpu[k] += time.thread_time() - started
    return ms(lat[0], cpu[0] * 1000 / len(items)), ms(lat[1], cpu[1] * 1000 / len(items))


def explain(url: str, tenant_id: str, pool_id: str) -> None:
    queries = {
        "records of a tenant": (
            "SELECT * FROM routing_record WHERE tenant_id = :t AND state IN "
            "('active', 'deleting', 'delete_failed')"
        ),
        "mapping": "SELECT * FROM mapping WHERE tenant_id = :t AND pool_id = :p",
    }
    with engine_for(url).connect() as conn:
        for label, sql in queries.items():
            plan = conn.execute(text(f"EXPLAIN ANALYZE {sql}"), {"t": tenant_id, "p": pool_id})
            print(f"   EXPLAIN {label}:")
            for (line,) in plan:
                print(f"      {line}")


# --- 3) clients -------------------------------------------------------------------------


@contextmanager
def serve_replicas(env: dict[str, str], *, replicas: int) -> Iterator[tuple[list[str], list[int]]]:
    """``tenantfusion serve`` replicas on free loopback ports, the simulator drivers
    registered in each (bench/scale_serve.py); yields their base URLs and pids."""
    procs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for _ in range(replicas):
            port = free_port()
            procs.append(
                subprocess.Popen(
                    [
                        str(ROOT / ".venv/bin/python"),
                        str(ROOT / "bench/scale_serve.py"),
                        "serve",
                        "--port",
                        str(port),
                    ],
                    env={**os.environ, **env},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
            )
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield bases, [p.pid for p in procs]
    finally:
        for proc in procs:
            proc.send_signal(2)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def simulator(latency: float) -> Iterator[str]:
    """The shared POOL SIMULATOR process on a free loopback port."""
    port = free_port()
    code = (
        "import sys, uvicorn; sys.path[:0] = [sys.argv[2], sys.argv[3]];"
        "from bench.simpool import sim_app;"
        f"uvicorn.run(sim_app({latency}), host='127.0.0.1', port=int(sys.argv[1]),"
        "log_level='warning', loop='uvloop', http='httptools')"
    )
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "-c", code, str(port), str(ROOT), str(ROOT / "src")]
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        proc.send_signal(2)
        proc.wait(timeout=20)


def home_pools(tenant: int, pools: int) -> tuple[str, str]:
    """The two pools a tenant works in (every pool is someone's home)."""
    return f"sim{(2 * tenant) % pools:05d}", f"sim{(2 * tenant + 1) % pools:05d}"


async def onboard(bases: list[str], tokens: list[str], *, pools: int) -> None:
    """Untimed warm-up: every tenant creates (and deletes) one network in each of its home
    pools, which onboards it there (project, user, credential, default quotas)."""

    async def tenant(i: int, http: httpx.AsyncClient) -> None:
        headers = {"X-Auth-Token": tokens[i]}
        for pool in home_pools(i, pools):
            r = await http.post(
                f"{bases[0]}/v1/networks", json={"name": "warm", "pool": pool}, headers=headers
            )
            r.raise_for_status()
            await http.delete(f"{bases[0]}/v1/networks/{r.json()['id']}", headers=headers)

    async with httpx.AsyncClient(timeout=300) as http:
        await asyncio.gather(*(tenant(i, http) for i in range(len(tokens))))


class ConnectionTrace:
    """httpcore's trace hook for one request: whether it opened a new connection."""

    def __init__(self) -> None:
        self.connected = False

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            self.connected = True


async def client_mix(
    bases: list[str], tokens: list[str], *, clients: int, ops: int, pools: int, keepalive: float
) -> tuple[list[float], int, float, dict[str, int]]:
    """``clients`` concurrent clients (client i: tenant i mod len(tokens), replica i mod
    len(bases)), each ``ops`` operations: create a network in one of its tenant's pools,
    list its networks, delete one it made. Returns latencies, errors, seconds, counts."""
    # idle connections are dropped well before the server's keep-alive ends (the server's
    # ``http_keep_alive_seconds``, 75 s): a client busy for seconds must not send on a
    # connection the server is closing at that moment
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=keepalive
    )
    lat: list[float] = []
    errors: dict[str, int] = {}
    counts = {"create": 0, "list": 0, "delete": 0}

    async def one(i: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(i)  # noqa: S311 - a workload, not a secret
        tenant = i % len(tokens)
        headers = {"X-Auth-Token": tokens[tenant]}
        base = bases[i % len(bases)]
        mine: list[str] = []
        for n in range(ops):
            op = "create" if not mine or n % 3 == 0 else ("list" if n % 3 == 1 else "delete")
            t = time.perf_counter()
            trace = ConnectionTrace()
            ext = {"trace": trace}
            try:
                if op == "create":
                    body = {"name": f"c{i}-{n}", "pool": rng.choice(home_pools(tenant, pools))}
                    r = await http.post(
                        f"{base}/v1/networks", json=body, headers=headers, extensions=ext
                    )
                    if r.status_code == 201:
                        mine.append(r.json()["id"])
                elif op == "list":
                    params = {"limit": 50}
                    r = await http.get(
                        f"{base}/v1/networks", headers=headers, params=params, extensions=ext
                    )
                else:
                    r = await http.delete(
                        f"{base}/v1/networks/{mine.pop()}", headers=headers, extensions=ext
                    )
                status = r.status_code
                ok = status in (200, 201, 202, 204)
                if op == "list" and ok:
                    ok = set(r.json()["pools"].values()) <= {"ok"}
            except httpx.TransportError as e:
                # which connection failed says why: a reused one the server had closed
                # (keep-alive race) or a new one (refused, backlog full)
                where = "new connection" if trace.connected else "reused connection"
                status, ok = f"{type(e).__name__} on a {where}", False  # type: ignore[assignment]
            lat.append((time.perf_counter() - t) * 1000)
            counts[op] += 1
            if not ok:
                key = f"{op} {status}"
                errors[key] = errors.get(key, 0) + 1

    lags: list[float] = []

    async def watch_lag() -> None:
        """How late this client's event loop wakes up: a response the server finished
        writing is read (and its connection seen idle) this much later."""
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.1)
            lags.append(time.perf_counter() - t - 0.1)

    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        watcher = asyncio.create_task(watch_lag())
        t = time.perf_counter()
        await asyncio.gather(*(one(i, http) for i in range(clients)))
        took = time.perf_counter() - t
        watcher.cancel()
    print(
        f"   client event loop lag: p50 {statistics.median(lags):.2f} / max {max(lags):.2f} s "
        f"(connections idle {keepalive:g} s on the client's clock are reused)"
    )
    if errors:
        print(f"   errors: {errors}")
    return lat, sum(errors.values()), took, counts


def clients_part(args: argparse.Namespace) -> None:
    print(
        f"\n3) {args.clients} concurrent clients x {args.ops} operations (create, list, delete "
        f"networks) over {args.sim_pools} POOL SIMULATORS (shared simulator process, "
        f"{args.sim_latency * 1000:.0f} ms a call), PostgreSQL"
    )
    simpool.register()
    for replicas in (int(r) for r in args.replicas.split(",")):
        data_dir = Path(tempfile.mkdtemp(prefix="tf-bench-scale-"))
        key = Fernet.generate_key().decode()
        with pg_database("clients") as url, simulator(args.sim_latency) as sim:
            settings = bench_settings(url, data_dir, key)
            upgrade(settings)
            add_pools(url=url, settings=settings, count=args.sim_pools, driver="simhttp")
            tenants = max(1, args.clients // 10)
            sessions = session_factory(settings)
            with sessions() as db:
                for i in range(tenants):
                    platform_service.create_tenant(
                        db=db,
                        actor=SYSTEM,
                        data=TenantCreate(
                            name=f"c{i}", admin=TenantAdmin(username="boss", password="boss-pass")
                        ),
                    )
                db.commit()
            env = {
                "TENANTFUSION_DATABASE_URL": url,
                "TENANTFUSION_DATA_DIR": str(data_dir),
                "TENANTFUSION_SECRET_KEY": key,
                "TENANTFUSION_RUN_WORKER": "true",
                "TENANTFUSION_RUN_RECONCILER": "false",
                "TENANTFUSION_LOG_LEVEL": "WARNING",
                "TENANTFUSION_LOGIN_CONCURRENCY": "8",
                simpool.SIM_ENDPOINT: sim,
            }
            samples = data_dir / "samples.txt"
            if args.profile:
                env["TF_BENCH_SAMPLES"] = str(samples)
            with serve_replicas(env, replicas=replicas) as (bases, pids):
                tokens = []
                for i in range(tenants):
                    login = {"tenant": f"c{i}", "username": "boss", "password": "boss-pass"}
                    r = httpx.post(
                        f"{bases[i % len(bases)]}/v1/auth/tokens", json=login, timeout=60
                    )
                    r.raise_for_status()
                    tokens.append(r.json()["token"])
                asyncio.run(onboard(bases, tokens, pools=args.sim_pools))
                cpu = [cpu_seconds(pid) for pid in pids]
                lat, errors, took, counts = asyncio.run(
                    client_mix(
                        bases,
                        tokens,
                        clients=args.clients,
                        ops=args.ops,
                        pools=args.sim_pools,
                        keepalive=args.client_keepalive,
                    )
                )
                memory = ", ".join(f"{rss_mb(pid):.0f}" for pid in pids)
                spent = sum(cpu_seconds(pid) for pid in pids) - sum(cpu)
            row(
                f"{replicas} replica(s): {len(lat)} requests ({counts['create']} creates, "
                f"{counts['list']} lists, {counts['delete']} deletes), errors",
                f"{errors}",
                "goal 0",
            )
            row(f"{replicas} replica(s): throughput", f"{len(lat) / took:.0f} req/s")
            row(f"{replicas} replica(s): latency", ms(lat))
            row(f"{replicas} replica(s): memory (RSS) per replica", f"{memory} MiB")
            row(
                f"{replicas} replica(s): server CPU per request",
                f"{spent * 1000 / len(lat):.1f} ms",
            )
            if samples.exists():
                print(f"   where the replica's busy threads were ({replicas} replica(s)):")
                for line in samples.read_text().splitlines():
                    print(f"      {line}")


# --- 4) profile -------------------------------------------------------------------------


def profile(label: str, fn: Callable[[], Any]) -> None:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
    stats.print_stats(r"tenantfusion|sqlalchemy/orm/(session|query|loading)|psycopg/cursor", 14)
    print(f"\n   profile: {label} (cumulative, top entries)")
    for line in out.getvalue().splitlines():
        if line.strip() and ("{" in line or "/" in line) and "function calls" not in line:
            print(f"      {line.strip()[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pools", type=int, default=500, help="registered pools (part 1)")
    parser.add_argument("--records", type=int, default=50_000, help="routing records (part 2)")
    parser.add_argument("--tenants", type=int, default=5_000, help="tenants (part 2)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (part 3)")
    parser.add_argument("--sim-pools", type=int, default=100, help="pools for parts 2 and 3")
    parser.add_argument("--ops", type=int, default=6, help="operations per client (part 3)")
    parser.add_argument("--decisions", type=int, default=200, help="scheduler decisions timed")
    parser.add_argument("--samples", type=int, default=1000, help="tenants sampled (part 2)")
    parser.add_argument("--page-size", type=int, default=1000, help="GET /v1/pools limit")
    parser.add_argument("--sweep-concurrency", type=int, default=64)
    parser.add_argument("--pool-timeout", type=float, default=2.0)
    parser.add_argument("--down-every", type=int, default=100, help="1 in N pools never answers")
    parser.add_argument("--sim-latency", type=float, default=0.005, help="part 3 pool latency")
    parser.add_argument("--replicas", default="1,2", help="part 3: replica counts to run")
    parser.add_argument(
        "--client-keepalive",
        type=float,
        default=15.0,
        help="part 3: seconds a client keeps an idle connection (the server keeps it 75 s)",
    )
    parser.add_argument("--parts", default="1,2,3", help="which parts to run")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest parts")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the lookups")
    args = parser.parse_args()
    os.environ.setdefault("TENANTFUSION_LOG_LEVEL", "WARNING")
    simpool.register()
    parts = set(args.parts.split(","))
    print(
        f"tenantfusion scale bench ({os.cpu_count()} cores, PostgreSQL; every pool a POOL "
        "SIMULATOR, see bench/simpool.py)"
    )
    started = time.perf_counter()
    if "1" in parts:
        pools_part(args)
    if "2" in parts:
        records_part(args)
    if "3" in parts:
        clients_part(args)
    print(f"\nsummary ({time.perf_counter() - started:.0f} s in all)\n")
    print(f"| {'measure':<66} | {'value':<26} | goal |\n|---|---|---|")
    for measure, value, goal in rows:
        print(f"| {measure:<66} | {value:<26} | {goal} |")


if __name__ == "__main__":
    main()
