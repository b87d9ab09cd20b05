"""Foundation benchmark: ensure() on an existing mapping, Keystone token issues per 1,000
tenant calls, and platform token validation + mapping lookup throughput over HTTP.

Runs against a real Keystone pool from the test bed. Usage:
    .venv/bin/python bench/bench_foundation.py [--database-url URL] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.common import free_port, pct  # noqa: E402
from tenantfusion.config import Settings  # noqa: E402
from tenantfusion.db import session_factory, upgrade  # noqa: E402
from tenantfusion.mapping.flows import mapping_ensure_flow  # noqa: E402
from tenantfusion.mapping.models import Mapping  # noqa: E402
from tenantfusion.mapping.sessions import tenant_session  # noqa: E402
from tenantfusion.metrics import POOL_TOKEN_ISSUES  # noqa: E402
from tenantfusion.platform import service as platform_service  # noqa: E402
from tenantfusion.platform.principal import SYSTEM  # noqa: E402
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate  # noqa: E402
from tenantfusion.pools import service as pool_service  # noqa: E402
from tenantfusion.pools.models import Pool  # noqa: E402
from tenantfusion.pools.schemas import PoolAuthIn, PoolCreate  # noqa: E402
from tenantfusion.testbed import ensure_pools  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tf-bench-"))
    key = Fernet.generate_key().decode()
    settings = Settings(
        data_dir=data_dir, database_url=args.database_url, secret_key=key, run_worker=False
    )  # type: ignore[arg-type]
    upgrade(settings)
    sessions = session_factory(settings)
    pool_info = ensure_pools(count=1, kind="keystone", root=ROOT / "var" / "testbed")[0]
    with sessions() as db:
        platform_service.create_platform_admin(db=db, username="bench", password="bench-pass-1")
        tenant = platform_service.create_tenant(
            db=db,
            actor=SYSTEM,
            data=TenantCreate(
                name="bench", admin=TenantAdmin(username="boss", password="boss-password")
            ),
        )
        pool = pool_service.register(
            db=db,
            actor=SYSTEM,
            settings=settings,
            data=PoolCreate(
                name="bench-pool",
                region_name=pool_info.region_name,
                auth=PoolAuthIn(
                    auth_url=pool_info.auth_url,
                    username=pool_info.username,
                    password=pool_info.password,
                    project_name=pool_info.project_name,
                ),
            ),
        )
        db.commit()
        tenant_id, pool_id = tenant.id, pool.id

    t0 = time.perf_counter()
    mapping_ensure_flow(
        sessions=sessions,
        actor=SYSTEM,
        tenant_id=tenant_id,
        pool_ref="bench-pool",
        settings=settings,
    )
    first = (time.perf_counter() - t0) * 1000
    lat = []
    for _ in range(2000):
        t = time.perf_counter()
        mapping_ensure_flow(
            sessions=sessions,
            actor=SYSTEM,
            tenant_id=tenant_id,
            pool_ref="bench-pool",
            settings=settings,
        )
        lat.append((time.perf_counter() - t) * 1000)

    with sessions() as db:
        mapping = db.query(Mapping).one()
        pool_row = db.get(Pool, pool_id)
    before = POOL_TOKEN_ISSUES.labels(pool="bench-pool")._value.get()
    call_lat = []
    for _ in range(args.calls):
        t = time.perf_counter()
        s = tenant_session(mapping=mapping, pool=pool_row, settings=settings)
        s.get("/auth/projects", endpoint_filter={"service_type": "identity", "interface": "public"})
        call_lat.append((time.perf_counter() - t) * 1000)
    issues = POOL_TOKEN_ISSUES.labels(pool="bench-pool")._value.get() - before

    port = free_port()
    env = {
        **os.environ,
        "TENANTFUSION_DATA_DIR": str(data_dir),
        "TENANTFUSION_DATABASE_URL": args.database_url,
        "TENANTFUSION_SECRET_KEY": key,
        "TENANTFUSION_RUN_WORKER": "false",
        "TENANTFUSION_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/tenantfusion"), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rps = 0.0
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        token = httpx.post(
            f"{base}/v1/auth/tokens",
            json={"tenant": "bench", "username": "boss", "password": "boss-password"},
        ).json()["token"]
        url = f"{base}/v1/tenants/{tenant_id}/mappings/bench-pool"
        assert httpx.get(url, headers={"X-Auth-Token": token}).status_code == 200
        if shutil.which("wrk"):
            out = subprocess.run(
                ["wrk", "-t2", "-c32", f"-d{args.seconds}s", "-H", f"X-Auth-Token: {token}", url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            if non2xx:
                print(f"warning: {non2xx.group(1)} non-2xx responses")
    finally:
        server.send_signal(2)
        server.wait(timeout=20)

    backend = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"\ntenantfusion foundation bench ({backend}, {os.cpu_count()} cores)")
    print(f"  ensure() first call (creates project+user): {first:8.1f} ms")
    print(
        f"  ensure() existing mapping  p50 {statistics.median(lat):6.2f} ms  "
        f"p99 {pct(lat, 0.99):6.2f} ms  (2000 calls)"
    )
    print(
        f"  tenant calls into Keystone p50 {statistics.median(call_lat):6.2f} ms  "
        f"p99 {pct(call_lat, 0.99):6.2f} ms  ({args.calls} calls)"
    )
    per_1000 = issues * 1000 / args.calls
    print(
        f"  Keystone token issues per 1,000 tenant calls: {per_1000:.1f} "
        f"(goal <= 1 per mapping; 1 mapping) ratio {per_1000 / 1:.2f}x of goal"
    )
    if rps:
        print(
            f"  token validation + mapping lookup over HTTP: {rps:,.0f} req/s "
            f"(goal >= 2,000; ratio {rps / 2000:.2f}x) [wrk -t2 -c32, uvicorn 2 workers]"
        )
    else:
        print("  HTTP throughput: skipped (install wrk)")
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
