"""Shared bench helpers: percentiles, a free port, a served tenantfusion."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def served(env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
    """``tenantfusion serve`` on a free loopback port; yields its base URL."""
    with served_process(env, workers=workers) as (base, _):
        yield base


@contextmanager
def served_process(env: dict[str, str], *, workers: int = 1) -> Iterator[tuple[str, int]]:
    """``tenantfusion serve`` on a free loopback port; yields its base URL and pid."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/tenantfusion"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, server.pid
    finally:
        server.send_signal(2)
        server.wait(timeout=20)
