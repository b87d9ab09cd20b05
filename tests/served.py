"""`tenantfusion serve` in its own process, for tests that kill it (crash points) or run
several replicas: start with extra settings, wait until it dies, stop it by pid."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tenantfusion.faults import CRASH_EXIT_CODE
from tests.conftest import TEST_KEY
from tests.live import free_port


class Served:
    """One `tenantfusion serve` process on a free loopback port over ``database_url``."""

    def __init__(self, *, database_url: str, data_dir: Path, **settings: str) -> None:
        self.database_url, self.data_dir, self.settings = database_url, data_dir, settings
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, **extra: str) -> str:
        """Start it (``extra``: more TENANTFUSION_* settings, e.g. crash_at); its URL."""
        port = free_port()
        env = {
            **os.environ,
            "TENANTFUSION_DATABASE_URL": self.database_url,
            "TENANTFUSION_DATA_DIR": str(self.data_dir),
            "TENANTFUSION_SECRET_KEY": TEST_KEY,
            "TENANTFUSION_LOG_LEVEL": "WARNING",
        }
        env.update({f"TENANTFUSION_{k.upper()}": v for k, v in {**self.settings, **extra}.items()})
        exe = Path(sys.executable).parent / "tenantfusion"
        log = (self.data_dir / f"serve-{port}.log").open("wb")
        self.process = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return self.url
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, f"serve exited: {self.process.returncode}"
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)

    def wait_crashed(self, timeout: float = 300) -> None:
        """Wait until the process died at its crash point (exit code 86)."""
        assert self.process is not None
        code = self.process.wait(timeout=timeout)
        assert code == CRASH_EXIT_CODE, f"serve exited {code}, not at a crash point"
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
