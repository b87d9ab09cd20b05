"""Start and stop test-bed services by pid file; wait for an HTTP endpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx


def read_pid(pid_file: Path) -> int | None:
    """The live pid in ``pid_file``, or None (a stale file is removed)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return None
    return pid


def stop(pid_file: Path, *, timeout: float = 20.0) -> bool:
    """SIGINT the process in ``pid_file`` (a uwsgi master stops quickly on it), then wait."""
    pid = read_pid(pid_file)
    if pid is None:
        return False
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True


def wait_http(url: str, *, timeout: float = 60.0, log: Path | None = None) -> None:
    """Wait until ``url`` answers below 500; raise with the log's tail if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{url} did not come up in {timeout:.0f}s\n{tail}")


def healthy(url: str) -> bool:
    """Whether ``url`` answers below 500 right now."""
    try:
        return httpx.get(url, timeout=2.0).status_code < 500
    except httpx.TransportError:
        return False


def run(cmd: list[str], *, env: dict[str, str] | None = None, log: Path) -> None:
    """Run a setup command, appending its output to ``log``; raise with the tail on failure."""
    with log.open("a") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        result = subprocess.run(
            cmd, env={**os.environ, **(env or {})}, stdout=fh, stderr=subprocess.STDOUT, check=False
        )
    if result.returncode != 0:
        raise RuntimeError(
            f"{cmd[0]} failed ({result.returncode}); see {log}\n{log.read_text()[-2000:]}"
        )
