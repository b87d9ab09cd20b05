"""Console benchmark: server-side time to answer ``GET /console/servers?limit=1000`` for a
tenant with 1,000 servers (session check, routing records, the pool's list, merge, the
page's template), p50 and p95 (goal p95 <= 300 ms), wall clock and the process's CPU
time (the part a busy machine does not inflate). ``--kind network`` or ``volume`` measures
the networks or volumes page with as many of those instead.

The servers live in ONE IN-PROCESS POOL SIMULATOR (not OpenStack: the test fakes' driver,
answering from memory at once), so the number is tenantfusion's own cost; a real pool's
list time adds to it (bench_resources.py measures that part against real Nova). Records are
real rows in a fresh SQLite database, written as a create would write them.

    .venv/bin/python bench/bench_console.py [--servers 1000] [--calls 40] [--kind server]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.fakes import CLOUDS, FakeCloud, FakeDriver, fake_pool  # noqa: E402
from tests.web.console import Console  # noqa: E402

from bench.common import pct  # noqa: E402
from tenantfusion.api import create_app  # noqa: E402
from tenantfusion.config import Settings  # noqa: E402
from tenantfusion.db import session_factory, upgrade  # noqa: E402
from tenantfusion.heap import freeze_startup_objects  # noqa: E402
from tenantfusion.platform import service as platform_service  # noqa: E402
from tenantfusion.platform.models import Role  # noqa: E402
from tenantfusion.platform.principal import SYSTEM, Principal  # noqa: E402
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate  # noqa: E402
from tenantfusion.pools.drivers import DRIVERS  # noqa: E402
from tenantfusion.pools.drivers.remote import (  # noqa: E402
    Kind,
    RemoteObject,
    record_description,
)
from tenantfusion.resources import networks  # noqa: E402
from tenantfusion.resources.models import RecordState, RoutingRecord  # noqa: E402
from tenantfusion.resources.schemas import NetworkCreate  # noqa: E402

SIMULATOR_URL = "simulator://console-bench"
GOAL_P95_MS = 300.0
#: kind → (its console page, what the pool reports of each object, what a record charges)
KINDS: dict[str, tuple[str, Callable[[int, str], dict[str, Any]], dict[str, int]]] = {
    "server": (
        "servers",
        lambda n, net_id: {
            "flavor": "m1.small",
            "image_id": "img-1",
            "addresses": {"net": [f"10.0.{n // 250}.{n % 250 + 2}"]},
            "power_state": "RUNNING",
            "network_ids": [net_id],
        },
        {"servers": 1, "vcpus": 1, "ram_mb": 512},
    ),
    "network": ("networks", lambda n, net_id: {"subnet_ids": [], "mtu": 1450}, {}),
    "volume": (
        "volumes",
        lambda n, net_id: {"size_gb": 1, "volume_type": "lvm", "server_ids": []},
        {"volumes": 1, "volume_gb": 1},
    ),
}


class Simulator(FakeDriver):
    """A POOL SIMULATOR (the tests' in-memory fake driver), labelled as such."""

    kind = "simulator"


def seed(settings: Settings, count: int, kind: Kind = "server") -> None:
    """A tenant, the simulator pool, the tenant's project there (through a network create,
    as the first create in a pool does), then ``count`` objects of ``kind``: in the
    simulator, and as active routing records naming them."""
    _, attrs, charges = KINDS[kind]
    DRIVERS["simulator"] = Simulator
    cloud = CLOUDS[SIMULATOR_URL] = FakeCloud()
    sessions = session_factory(settings)
    with sessions() as db:
        tenant = platform_service.create_tenant(
            db=db,
            actor=SYSTEM,
            data=TenantCreate(
                name="bench", admin=TenantAdmin(username="boss", password="boss-pass")
            ),
        )
        pool = fake_pool(
            name="sim",
            url=SIMULATOR_URL,
            driver="simulator",
            settings=settings,
        )
        db.add(pool)
        db.commit()
        tenant_id, pool_id = tenant.id, pool.id
    actor = Principal(user_id="bench", username="boss", role=Role.tenant_admin, tenant_id=tenant_id)
    net = networks.create(
        sessions=sessions,
        actor=actor,
        data=NetworkCreate(name="net", pool="sim"),
        settings=settings,
    )
    project_id = next(o.project_id for o in cloud.objects.values() if o.remote_id == net.remote_id)
    with sessions() as db:
        for n in range(count):
            record = RoutingRecord(
                tenant_id=tenant_id,
                pool_id=pool_id,
                kind=kind,
                name=f"{kind}-{n:04d}",
                state=RecordState.active,
                remote_id=f"sim-{kind}-{n}",
                charges=charges,
            )
            db.add(record)
            db.flush()
            cloud.objects[record.remote_id or ""] = RemoteObject(
                kind=kind,
                remote_id=record.remote_id or "",
                name=record.name,
                status="ACTIVE",
                project_id=project_id,
                description=record_description(record.id),
                attrs=attrs(n, net.remote_id or ""),
            )
        db.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--kind", choices=sorted(KINDS), default="server")
    args = parser.parse_args()
    os.environ.setdefault("TENANTFUSION_LOG_LEVEL", "WARNING")
    data_dir = Path(tempfile.mkdtemp(prefix="tf-bench-console-"))
    settings = Settings(  # type: ignore[call-arg]
        data_dir=data_dir, secret_key=Fernet.generate_key().decode(), run_worker=False
    )
    upgrade(settings)
    seed(settings, args.servers, args.kind)
    url = f"/console/{KINDS[args.kind][0]}?limit={args.servers}"
    app = create_app(settings, run_worker=False)
    freeze_startup_objects()  # as the served app does (asgi.py)
    with TestClient(app) as client:
        console = Console(client.app)
        assert console.login("bench", "boss", "boss-pass").status_code == 303
        for _ in range(3):  # warm up
            console.get(url)
        lat, cpu = [], []
        for _ in range(args.calls):
            t, c = time.perf_counter(), time.process_time()
            page = console.get(url)
            lat.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        assert page.status_code == 200, page.status_code
        rows = len(re.findall(rf"<tr data-{args.kind}=", page.text))
        assert rows == args.servers, f"{rows} rows"
    p50, p95 = statistics.median(lat), pct(lat, 0.95)
    print(
        f"console {args.kind} list, {args.servers} {args.kind}s: records in SQLite + ONE "
        f"IN-PROCESS POOL SIMULATOR (not OpenStack), {args.calls} calls, "
        f"{len(page.content) / 1e6:.2f} MB page"
    )
    verdict = "meets" if p95 <= GOAL_P95_MS else "MISSES"
    print(
        f"   GET {url}: p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {max(lat):7.1f} ms  "
        f"({verdict} the goal p95 <= {GOAL_P95_MS:.0f} ms)"
    )
    print(
        f"   CPU time of the process per request (what other load on the machine does not "
        f"inflate): p50 {statistics.median(cpu):7.1f} ms  p95 {pct(cpu, 0.95):7.1f} ms; "
        f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
