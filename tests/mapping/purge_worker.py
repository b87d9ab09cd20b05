"""A worker process of the purge test: runs due jobs once (``TENANTFUSION_CRASH_AT`` may
make it die at a crash point, as a kill -9 would)."""

from __future__ import annotations

import sys

from tenantfusion.api import create_app  # noqa: F401  (registers every job handler)
from tenantfusion.config import Settings
from tenantfusion.db import session_factory
from tenantfusion.jobs.worker import run_pending


def main() -> None:
    url, key, lease_seconds = sys.argv[1:4]
    settings = Settings(
        database_url=url,  # type: ignore[arg-type]
        secret_key=key,  # type: ignore[arg-type]
        run_worker=False,
        lease_seconds=float(lease_seconds),
        pool_timeout_seconds=30.0,
    )
    print(run_pending(sessions=session_factory(settings), settings=settings))


if __name__ == "__main__":
    main()
