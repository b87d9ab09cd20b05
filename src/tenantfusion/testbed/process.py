"""Start uwsgi-served APIs as daemons and stop them by the pid in their pid file."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tenantfusion.testbed.layout import HOST


@dataclass(frozen=True)
class UwsgiApp:
    """One WSGI API served by a daemonized uwsgi master on 127.0.0.1."""

    name: str
    port: int
    module: str
    pidfile: Path
    logfile: Path
    env: Mapping[str, str] = field(default_factory=dict)
    processes: int = 2
    threads: int = 1
    health_path: str = "/"

    @property
    def url(self) -> str:
        """Base URL of the API."""
        return f"http://{HOST}:{self.port}"

    @property
    def health_url(self) -> str:
        """URL polled to decide the API is up."""
        return self.url + self.health_path


def read_pid(pidfile: Path) -> int | None:
    """Return the pid in `pidfile`, or None when missing or unreadable."""
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def running_pid(pidfile: Path) -> int | None:
    """Return the live pid of the process that owns `pidfile`; remove a stale pid file.

    A pid counts only when the process's command line names this pid file, so a
    recycled pid of some other process is never signalled.
    """
    pid = read_pid(pidfile)
    if pid is not None and str(pidfile) in _cmdline(pid):
        return pid
    pidfile.unlink(missing_ok=True)
    return None


def is_healthy(url: str, timeout: float = 3.0) -> bool:
    """True when `url` answers HTTP below 500 (401/404 still mean "the API is up")."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status < 500)
    except urllib.error.HTTPError as e:
        return e.code < 500
    except (OSError, ValueError):
        return False


def start_uwsgi(app: UwsgiApp, venv: Path) -> None:
    """Launch `app` as a daemon (returns at once; use `wait_healthy` next)."""
    app.logfile.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(venv / "bin" / "uwsgi"),
        "--http-socket", f"{HOST}:{app.port}",
        "--module", app.module,
        "--master",
        "--processes", str(app.processes),
        "--threads", str(app.threads),
        "--lazy-apps",
        "--need-app",
        "--vacuum",
        "--pidfile", str(app.pidfile),
        "--daemonize", str(app.logfile),
        "--add-header", "Connection: close",
        "--virtualenv", str(venv),
        "--buffer-size", "65535",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **app.env}
    subprocess.run(command, check=True, env=env, stdin=subprocess.DEVNULL)


def wait_healthy(url: str, *, timeout: float, pidfile: Path, logfile: Path) -> None:
    """Poll `url` until healthy; raise RuntimeError with the log tail on timeout or exit."""
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while time.monotonic() < deadline:
        if is_healthy(url):
            return
        if time.monotonic() - started > 2 and running_pid(pidfile) is None:
            break
        time.sleep(0.2)
    tail = logfile.read_text(errors="replace")[-3000:] if logfile.exists() else ""
    raise RuntimeError(f"{url} did not become healthy; log {logfile}:\n{tail}")


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{p}").exists() and _alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def stop_pidfile(pidfile: Path, *, timeout: float = 20.0) -> bool:
    """SIGINT the uwsgi master named in `pidfile` and wait; SIGKILL it and its workers late.

    Returns True when something was running.
    """
    pid = running_pid(pidfile)
    if pid is None:
        return False
    workers = _children(pid)
    os.kill(pid, signal.SIGINT)
    if not _wait_gone([pid, *workers], timeout):
        for p in [pid, *workers]:
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        _wait_gone([pid, *workers], 5.0)
    pidfile.unlink(missing_ok=True)
    return True


def rss_kib(pidfile: Path) -> int:
    """Total resident memory (KiB) of the master in `pidfile` and its workers."""
    pid = running_pid(pidfile)
    if pid is None:
        return 0
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total
