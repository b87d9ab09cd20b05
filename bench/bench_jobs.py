"""Jobs benchmark: what a job's lease machinery costs per job (claim with a fencing
generation, heartbeat thread, fenced progress and result) against the same worker with
the heartbeat replaced by a no-op, in one run, with handlers that do nothing.

Usage:
    .venv/bin/python bench/bench_jobs.py [--database-url URL] [--jobs 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tenantfusion.config import Settings  # noqa: E402
from tenantfusion.db import session_factory, upgrade  # noqa: E402
from tenantfusion.jobs import service as job_service  # noqa: E402
from tenantfusion.jobs import worker  # noqa: E402
from tenantfusion.jobs.registry import JobContext, handler  # noqa: E402
from tenantfusion.logging import configure  # noqa: E402
from tenantfusion.platform.principal import SYSTEM  # noqa: E402

NOOP = "bench.noop"


@handler(NOOP)
def noop(ctx: JobContext) -> dict[str, Any]:
    ctx.report(1, 1, "noop")
    return {}


@contextmanager
def no_heartbeat(**_: Any) -> Iterator[None]:
    yield


def run(settings: Settings, jobs: int) -> float:
    """Seconds per job to enqueue-free claim, run and finish ``jobs`` no-op jobs."""
    sessions = session_factory(settings)
    with sessions() as db:
        for _ in range(jobs):
            job_service.enqueue(db=db, actor=SYSTEM, kind=NOOP, payload={}, tenant_id=None)
        db.commit()
    start = time.perf_counter()
    ran = worker.run_pending(sessions=sessions, settings=settings, limit=jobs)
    elapsed = time.perf_counter() - start
    assert ran == jobs, ran
    return elapsed / jobs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--jobs", type=int, default=300)
    args = parser.parse_args()
    configure("WARNING")
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="tf-bench-jobs-")),
        database_url=args.database_url,
        secret_key=Fernet.generate_key().decode(),  # type: ignore[arg-type]
        run_worker=False,
    )
    upgrade(settings)
    with_heartbeat, without = [], []
    real = worker.Heartbeat
    for _ in range(3):  # alternate, so load drifts hit both sides alike
        worker.Heartbeat = real  # type: ignore[misc]
        with_heartbeat.append(run(settings, args.jobs))
        worker.Heartbeat = no_heartbeat  # type: ignore[misc,assignment]
        without.append(run(settings, args.jobs))
    best_with, best_without = min(with_heartbeat), min(without)
    print(f"database: {settings.resolved_database_url.split('://')[0]}, {args.jobs} jobs x 3")
    print(f"per job, lease + heartbeat thread + fenced writes: {best_with * 1000:.2f} ms")
    print(f"per job, same without the heartbeat thread:       {best_without * 1000:.2f} ms")
    print(f"ratio: {best_with / best_without:.2f}x")


if __name__ == "__main__":
    main()
