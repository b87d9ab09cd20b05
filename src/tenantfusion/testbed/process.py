"""Start the pool's processes as daemons and stop them by the pid in their pid file.

Two kinds: `UwsgiApp` (a WSGI API under a daemonized uwsgi master that writes its own
pid file) and `Daemon` (a plain console script such as nova-conductor; we write
"pid start-time" to its pid file). A pid counts as ours only if the process carries
`TF_TESTBED_PIDFILE=<its pid file>` in its environment or, for daemons (whose
setproctitle overwrites that memory), still has the recorded start time. So a stale
pid file or a recycled pid is never signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tenantfusion.testbed.layout import HOST

PIDFILE_ENV = "TF_TESTBED_PIDFILE"


@dataclass(frozen=True)
class UwsgiApp:
    """One WSGI API served by a daemonized uwsgi master on 127.0.0.1."""

    name: str
    port: int
    module: str
    pidfile: Path
    logfile: Path
    env: Mapping[str, str] = field(default_factory=dict)
    processes: int = 1
    threads: int = 1
    health_path: str = "/"
    #: the app's ``sys.argv[1:]`` (uwsgi ``--pyargv``), for apps that read options there
    argv: Sequence[str] = ()

    @property
    def url(self) -> str:
        """Base URL of the API."""
        return f"http://{HOST}:{self.port}"

    @property
    def health_url(self) -> str:
        """URL polled to decide the API is up."""
        return self.url + self.health_path


@dataclass(frozen=True)
class Daemon:
    """A long-running console script (no HTTP port), e.g. nova-compute."""

    name: str
    command: Sequence[str]
    pidfile: Path
    logfile: Path
    env: Mapping[str, str] = field(default_factory=dict)


Process = UwsgiApp | Daemon


def _read(pidfile: Path) -> tuple[int, int | None] | None:
    try:
        fields = pidfile.read_text().split()
        return int(fields[0]), int(fields[1]) if len(fields) > 1 else None
    except (OSError, ValueError, IndexError):
        return None


def read_pid(pidfile: Path) -> int | None:
    """Return the pid in `pidfile`, or None when missing or unreadable."""
    found = _read(pidfile)
    return found[0] if found else None


def _stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name ([0] state, [1] ppid, ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def start_time(pid: int) -> int | None:
    """Start time of `pid` in clock ticks since boot (None when gone)."""
    fields = _stat(pid)
    return int(fields[19]) if len(fields) > 19 else None


def _owns(pid: int, pidfile: Path) -> bool:
    if not _alive(pid):
        return False
    found = _read(pidfile)
    if found and found[0] == pid and found[1] is not None:
        return found[1] == start_time(pid)
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"{PIDFILE_ENV}={pidfile}".encode() in environ


def running_pid(pidfile: Path) -> int | None:
    """Return the live pid that owns `pidfile`; remove the pid file when stale."""
    pid = read_pid(pidfile)
    if pid is not None and _owns(pid, pidfile):
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


def _env(process: Process) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONWARNINGS": "ignore",
        **process.env,
        PIDFILE_ENV: str(process.pidfile),
    }


def start(process: Process, venv: Path) -> None:
    """Launch `process` detached (returns at once; wait for health or readiness next)."""
    process.logfile.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(process, Daemon):
        with process.logfile.open("ab") as log:
            child = subprocess.Popen(
                list(process.command),
                env=_env(process),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process.pidfile.write_text(f"{child.pid} {start_time(child.pid)}\n")
        return
    command = [
        str(venv / "bin" / "uwsgi"),
        "--http-socket", f"{HOST}:{process.port}",
        "--module", process.module,
        "--master",
        "--processes", str(process.processes),
        "--threads", str(process.threads),
        "--enable-threads",
        "--thunder-lock",
        "--lazy-apps",
        "--need-app",
        "--vacuum",
        "--pidfile", str(process.pidfile),
        "--daemonize", str(process.logfile),
        "--add-header", "Connection: close",
        "--virtualenv", str(venv),
        "--buffer-size", "65535",
    ]  # fmt: skip
    if process.argv:
        command += ["--pyargv", " ".join(process.argv)]
    subprocess.run(command, check=True, env=_env(process), stdin=subprocess.DEVNULL)


def log_tail(logfile: Path, size: int = 3000) -> str:
    """The last `size` characters of a log file ("" when missing)."""
    return logfile.read_text(errors="replace")[-size:] if logfile.exists() else ""


def wait_healthy(app: UwsgiApp, *, timeout: float) -> None:
    """Poll the app until healthy; raise RuntimeError with the log tail on timeout or exit."""
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while time.monotonic() < deadline:
        if is_healthy(app.health_url):
            return
        if time.monotonic() - started > 2 and running_pid(app.pidfile) is None:
            break
        time.sleep(0.2)
    raise RuntimeError(
        f"{app.health_url} did not become healthy; log {app.logfile}:\n{log_tail(app.logfile)}"
    )


def children(pid: int) -> list[int]:
    """Direct children of `pid`."""
    kids = []
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if len(fields) > 1 and int(fields[1]) == pid:
            kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return bool(fields) and fields[0] != "Z"


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def stop_pidfile(pidfile: Path, *, timeout: float = 20.0) -> bool:
    """Stop the process named in `pidfile` and wait; SIGKILL it and its children late.

    uwsgi masters get SIGINT (fast shutdown), other daemons SIGTERM. Returns True when
    something was running.
    """
    pid = running_pid(pidfile)
    if pid is None:
        return False
    group = {p: start_time(p) for p in [pid, *children(pid)]}
    is_uwsgi = b"uwsgi" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    os.kill(pid, signal.SIGINT if is_uwsgi else signal.SIGTERM)
    if not _wait_gone(list(group), timeout):
        for p, started in group.items():
            if _alive(p) and start_time(p) == started:
                os.kill(p, signal.SIGKILL)
        _wait_gone(list(group), 5.0)
    pidfile.unlink(missing_ok=True)
    return True


def rss_kib(pidfile: Path) -> int:
    """Total resident memory (KiB) of the process in `pidfile` and its children."""
    pid = running_pid(pidfile)
    if pid is None:
        return 0
    total = 0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total
