"""Bulkheads under a faulted pool (issue 10): one served tenantfusion on PostgreSQL, two
real full test-bed pools (east, west).

Tenant ``calm`` lists its servers (east only) back to back while four clients of tenant
``hit`` list theirs (east + west) and `/healthz` is polled every 50 ms, in three phases of
the same length: west healthy, west's nova-api and neutron frozen (SIGSTOP), west's
nova-api and neutron stopped. Goals: calm's p99 with west faulted within 1.2x of its p99
with west healthy; `/healthz` p99 < 100 ms; hit's lists always 200 and partial.

    .venv/bin/python bench/bench_faults.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.live import frozen  # noqa: E402
from tests.resources.fault_world import Load, fault_world, run_load  # noqa: E402

from tenantfusion.testbed import ensure_pools, start_service, stop_service  # noqa: E402

FAULTED = ("nova", "neutron")


def report(phase: str, load: Load, base_p99: float | None) -> float:
    calm = load.calm.p(0.99)
    outcomes = Counter(
        b["pools"].get("west", "?") for hits in load.hit for b in hits.bodies if b is not None
    )
    statuses = Counter(s for hits in load.hit for s in hits.statuses) + Counter(load.calm.statuses)
    ratio = f"  ratio {calm / base_p99:.2f}x (goal <= 1.2x)" if base_p99 else ""
    print(
        f"{phase:>8}: calm list p50 {load.calm.p(0.5):6.1f} p99 {calm:6.1f} ms "
        f"({len(load.calm.ms)} calls){ratio}\n"
        f"          healthz p50 {load.healthz.p(0.5):5.1f} p99 {load.healthz.p(0.99):5.1f} "
        f"max {max(load.healthz.ms):5.1f} ms (goal p99 < 100)\n"
        f"          hit lists {sum(len(h.ms) for h in load.hit)}: west {dict(outcomes)}; "
        f"statuses {dict(statuses)}; held in transaction {load.held_max}"
    )
    return calm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    os.environ.setdefault("TENANTFUSION_LOG_LEVEL", "WARNING")
    pools = ensure_pools(count=2, kind="full")
    west = pools[1]
    print(f"tenantfusion faults bench ({os.cpu_count()} cores, PostgreSQL, 2 full pools)")
    with (
        tempfile.TemporaryDirectory(prefix="tf-bench-faults-") as tmp,
        fault_world(pools, Path(tmp)) as world,
    ):
        run_load(world, 3)  # warm up: tokens, sessions, connections
        base = report("healthy", run_load(world, args.seconds), None)
        with frozen(west, FAULTED):
            report("frozen", run_load(world, args.seconds), base)
        stopped = []
        try:
            for service in FAULTED:
                stop_service(west, service)
                stopped.append(service)
            report("stopped", run_load(world, args.seconds), base)
        finally:
            for service in reversed(stopped):
                start_service(west, service)


if __name__ == "__main__":
    main()
