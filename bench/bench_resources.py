"""Resources benchmark: what tenantfusion adds to a server list, and what fan-out costs.

Part 1, real pools (two full test-bed pools: Keystone, Nova with the fake driver, Neutron,
Placement, Glance): the tenant's server list straight from Nova with openstacksdk, as the
tenant's own pool user, against ``GET /v1/servers`` through a served tenantfusion
(HTTP, token check, routing records, Nova list, merge). Calls alternate, same servers.

Part 2, fan-out over 2, 4 and 8 pools: IN-PROCESS POOL STAND-INS (not OpenStack): each
stand-in answers a list after a fixed latency (the slowest one 50 ms), so the merged list
through tenantfusion's engine can be compared with the slowest pool alone.

    .venv/bin/python bench/bench_resources.py [--calls 200] [--servers 6]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import openstack
from cryptography.fernet import Fernet
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.fakes import CLOUDS, FakeCloud, FakeDriver  # noqa: E402

from bench.common import pct, served  # noqa: E402
from tenantfusion.config import Settings  # noqa: E402
from tenantfusion.crypto import encrypt_json  # noqa: E402
from tenantfusion.db import session_factory, upgrade  # noqa: E402
from tenantfusion.mapping.models import Mapping  # noqa: E402
from tenantfusion.mapping.sessions import tenant_session  # noqa: E402
from tenantfusion.platform import service as platform_service  # noqa: E402
from tenantfusion.platform.models import Role, User  # noqa: E402
from tenantfusion.platform.principal import SYSTEM, Principal  # noqa: E402
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate  # noqa: E402
from tenantfusion.pools import service as pool_service  # noqa: E402
from tenantfusion.pools.drivers import DRIVERS  # noqa: E402
from tenantfusion.pools.drivers.base import PoolAuth  # noqa: E402
from tenantfusion.pools.drivers.remote import Kind, RemoteObject  # noqa: E402
from tenantfusion.pools.models import Pool, PoolStatus  # noqa: E402
from tenantfusion.pools.schemas import PoolAuthIn, PoolCreate  # noqa: E402
from tenantfusion.resources import networks  # noqa: E402
from tenantfusion.resources import servers as servers_service  # noqa: E402
from tenantfusion.resources.schemas import ListQuery, NetworkCreate  # noqa: E402
from tenantfusion.testbed import ensure_pools  # noqa: E402

SLOWEST_SECONDS = 0.050


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values):7.2f} ms  p99 {pct(values, 0.99):7.2f} ms"


def settings_in(data_dir: Path, key: str) -> Settings:
    return Settings(data_dir=data_dir, secret_key=key, run_worker=False)  # type: ignore[call-arg]


def real_pools(calls: int, servers: int) -> None:
    infos = ensure_pools(count=2, kind="full", root=ROOT / "var" / "testbed")
    data_dir = Path(tempfile.mkdtemp(prefix="tf-bench-res-"))
    key = Fernet.generate_key().decode()
    settings = settings_in(data_dir, key)
    upgrade(settings)
    sessions = session_factory(settings)
    with sessions() as db:
        platform_service.create_tenant(
            db=db,
            actor=SYSTEM,
            data=TenantCreate(
                name="bench", admin=TenantAdmin(username="boss", password="boss-pass")
            ),
        )
        for i, info in enumerate(infos):
            pool_service.register(
                db=db,
                actor=SYSTEM,
                settings=settings,
                data=PoolCreate(
                    name=f"p{i + 1}",
                    region_name=info.region_name,
                    default_network_cidr=f"10.88.{i + 1}.0/24",  # type: ignore[arg-type]
                    auth=PoolAuthIn(
                        auth_url=info.auth_url,
                        username=info.username,
                        password=info.password,  # type: ignore[arg-type]
                        project_name=info.project_name,
                    ),
                ),
            )
        db.commit()
    env = {
        "TENANTFUSION_DATA_DIR": str(data_dir),
        "TENANTFUSION_SECRET_KEY": key,
        "TENANTFUSION_RUN_WORKER": "true",
        "TENANTFUSION_LOG_LEVEL": "WARNING",
    }
    with served(env) as base:
        login = {"tenant": "bench", "username": "boss", "password": "boss-pass"}
        token = httpx.post(f"{base}/v1/auth/tokens", json=login).json()["token"]
        client = httpx.Client(base_url=base, headers={"X-Auth-Token": token}, timeout=60)
        created = []
        for n in range(servers):
            body = {
                "name": f"b{n}",
                "pool": f"p{n % 2 + 1}",
                "flavor": "m1.nano",
                "image": "cirros-tiny",
            }
            r = client.post("/v1/servers", json=body)
            r.raise_for_status()
            created.append(r.json()["id"])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            items = client.get("/v1/servers").json()["items"]
            if len(items) == servers and all(s["status"] == "ACTIVE" for s in items):
                break
            time.sleep(1)
        with sessions() as db:
            mappings = {m.pool_id: m for m in db.query(Mapping)}
            pools = {p.name: p for p in db.query(Pool)}
        direct: dict[str, Any] = {}
        for name, pool in pools.items():
            ksa = tenant_session(mapping=mappings[pool.id], pool=pool, settings=settings)
            direct[name] = openstack.connection.Connection(session=ksa, region_name="RegionOne")

        def timed(fn: Any) -> float:
            t = time.perf_counter()
            fn()
            return (time.perf_counter() - t) * 1000

        with sessions() as db:
            boss = db.scalars(select(User).where(User.username == "boss")).one()
            actor = Principal(
                user_id=boss.id, username="boss", role=Role.tenant_admin, tenant_id=boss.tenant_id
            )

        def raw_list(pool: str) -> None:
            direct[pool].compute.get("/servers/detail", microversion="2.47").json()

        def engine_list(pool: str) -> None:
            with sessions() as db:
                servers_service.list_(
                    db=db, actor=actor, settings=settings, query=ListQuery(pool=pool)
                )

        lat: dict[str, list[float]] = {k: [] for k in ("d1", "d2", "t1", "t2", "tall", "e1", "r1")}
        for _ in range(10):  # warm up every path
            client.get("/v1/servers")
            for conn in direct.values():
                list(conn.compute.servers(details=True))
        for _ in range(calls):
            lat["d1"].append(timed(lambda: list(direct["p1"].compute.servers(details=True))))
            lat["t1"].append(timed(lambda: client.get("/v1/servers", params={"pool": "p1"})))
            lat["d2"].append(timed(lambda: list(direct["p2"].compute.servers(details=True))))
            lat["t2"].append(timed(lambda: client.get("/v1/servers", params={"pool": "p2"})))
            lat["tall"].append(timed(lambda: client.get("/v1/servers")))
            lat["e1"].append(timed(lambda: engine_list("p1")))
            lat["r1"].append(timed(lambda: raw_list("p1")))
        if os.environ.get("TF_BENCH_PROFILE"):
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            for _ in range(50):
                engine_list("p1")
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        page = client.get("/v1/servers").json()
        assert len(page["items"]) == servers and set(page["pools"].values()) == {"ok"}
        for server_id in created:
            client.delete(f"/v1/servers/{server_id}")

    print(
        f"\n1) server list, real pools (2 full test-bed pools, {servers} servers, "
        f"{calls} calls each)"
    )
    for p in ("1", "2"):
        d, t = lat[f"d{p}"], lat[f"t{p}"]
        added50 = statistics.median(t) - statistics.median(d)
        added99 = pct(t, 0.99) - pct(d, 0.99)
        print(f"   pool p{p} direct openstacksdk     {ms(d)}")
        print(f"   pool p{p} through tenantfusion    {ms(t)}")
        print(
            f"      added p50 {added50:+.2f} ms  p99 {added99:+.2f} ms  "
            f"ratio {statistics.median(t) / statistics.median(d):.3f}x  (goal <= 1 ms, <= 1.05x)"
        )
    print(f"   pool p1 tenantfusion engine in-process (no HTTP hop) {ms(lat['e1'])}")
    raw, through = statistics.median(lat["r1"]), statistics.median(lat["t1"])
    print(f"   pool p1 raw GET /servers/detail (keystoneauth, no SDK objects) {ms(lat['r1'])}")
    print(
        f"      tenantfusion vs the same raw request: added p50 {through - raw:+.2f} ms  "
        f"p99 {pct(lat['t1'], 0.99) - pct(lat['r1'], 0.99):+.2f} ms  ratio {through / raw:.3f}x"
    )
    slowest = max(statistics.median(lat["d1"]), statistics.median(lat["d2"]))
    print(f"   both pools merged through tenantfusion {ms(lat['tall'])}")
    print(
        f"      vs slowest pool direct (p50 {slowest:.2f} ms): "
        f"ratio {statistics.median(lat['tall']) / slowest:.3f}x  (goal <= 1.15x)"
    )
    shutil.rmtree(data_dir, ignore_errors=True)


class StandIn(FakeDriver):
    """An in-process pool stand-in whose list answers after the latency in its URL."""

    kind = "standin"

    def list_objects(self, *, session: Any, kind: Kind) -> list[RemoteObject]:
        time.sleep(float(self.auth.auth_url.rsplit("/", 1)[1]))
        return super().list_objects(session=session, kind=kind)


def fan_out_standins(calls: int) -> None:
    DRIVERS["standin"] = StandIn
    print(
        f"\n2) merged list fan-out, IN-PROCESS POOL STAND-INS (not OpenStack; latencies spread "
        f"up to {SLOWEST_SECONDS * 1000:.0f} ms, 5 networks per pool, {calls} calls)"
    )
    for count in (2, 4, 8):
        data_dir = Path(tempfile.mkdtemp(prefix="tf-bench-fan-"))
        settings = settings_in(data_dir, Fernet.generate_key().decode())
        upgrade(settings)
        sessions = session_factory(settings)
        with sessions() as db:
            tenant = platform_service.create_tenant(
                db=db,
                actor=SYSTEM,
                data=TenantCreate(
                    name="fan", admin=TenantAdmin(username="boss", password="boss-pass")
                ),
            )
            for i in range(count):
                latency = SLOWEST_SECONDS * (0.5 + 0.5 * i / max(1, count - 1))
                url = f"standin://{count}-{i}/{latency:.4f}"
                CLOUDS[url] = FakeCloud()
                auth = PoolAuth(auth_url=url, username="admin", password="pw")
                db.add(
                    Pool(
                        name=f"s{i}",
                        driver="standin",
                        auth_url=url,
                        project_domain="Default",
                        credential=encrypt_json(auth.to_dict(), settings=settings),
                        status=PoolStatus.ok,
                        services=["identity", "network"],
                    )
                )
            db.commit()
            actor = Principal(
                user_id="bench", username="boss", role=Role.tenant_admin, tenant_id=tenant.id
            )
        for i in range(count):
            for n in range(5):
                networks.create(
                    sessions=sessions,
                    actor=actor,
                    data=NetworkCreate(name=f"n{n}", pool=f"s{i}"),
                    settings=settings,
                )
        lat = []
        for _ in range(calls):
            t = time.perf_counter()
            with sessions() as db:
                page = networks.list_(db=db, actor=actor, settings=settings, query=ListQuery())
            lat.append((time.perf_counter() - t) * 1000)
            assert len(page.items) == 5 * count
        slowest_ms = SLOWEST_SECONDS * 1000
        print(
            f"   {count} pools: {ms(lat)}  vs slowest pool {slowest_ms:.0f} ms: "
            f"ratio {statistics.median(lat) / slowest_ms:.3f}x  (goal <= 1.15x)"
        )
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--servers", type=int, default=6)
    parser.add_argument("--skip-real", action="store_true", help="only the stand-in fan-out")
    args = parser.parse_args()
    os.environ.setdefault("TENANTFUSION_LOG_LEVEL", "WARNING")
    print(f"tenantfusion resources bench ({os.cpu_count()} cores, SQLite)")
    if not args.skip_real:
        real_pools(args.calls, args.servers)
    fan_out_standins(max(20, args.calls // 4))


if __name__ == "__main__":
    main()
