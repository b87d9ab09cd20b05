"""``/healthz`` from its own database connection and its own thread.

The probe never takes a request thread (the route is async) nor a connection of the
request engine's pool, so it answers in milliseconds while every request thread waits on
a hung pool and every pooled connection is busy. A database that does not answer within
``timeout`` makes it fail (503) at once rather than hang the probe.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from tenantfusion.db import new_engine


class HealthProbe:
    """Pings the database over one dedicated connection in one dedicated thread."""

    def __init__(self, url: str, *, timeout: float = 1.0) -> None:
        self._engine = new_engine(url, pool_size=1, max_overflow=0)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="healthz")
        self._timeout = timeout

    def _ping(self) -> None:
        with self._engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def check(self) -> str | None:
        """None when the database answers in time, else why not."""
        ping = asyncio.get_running_loop().run_in_executor(self._thread, self._ping)
        try:
            await asyncio.wait_for(ping, self._timeout)
        except TimeoutError:
            return f"no answer in {self._timeout:g} s"
        except Exception as e:  # report, don't crash the probe
            return type(e).__name__
        return None

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)
        self._engine.dispose()
