"""Real processes for fault and replica tests: `tenantfusion serve` replicas on a port,
a pool's API processes frozen (SIGSTOP) and thawed, latency sampling, a replica's
counters."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tenantfusion.testbed import PoolInfo, service_pids

EXE = Path(sys.executable).parent / "tenantfusion"


def counter(base: str, admin: dict[str, str], metric: str, label: str) -> dict[str, float]:
    """A counter of the served replica at ``base`` (its ``/metrics``), by one label's
    values (a value never counted is absent)."""
    text = httpx.get(f"{base}/metrics", headers=admin).text
    found = re.findall(rf'^{metric}\{{{label}="([^"]+)"\}} ([0-9.e+]+)$', text, re.M)
    return {value: float(n) for value, n in found}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(*, database_url: str, data_dir: Path, key: str, **extra: str) -> dict[str, str]:
    """The environment of a `serve` replica (every replica shares database and keys)."""
    return {
        "TENANTFUSION_DATABASE_URL": database_url,
        "TENANTFUSION_DATA_DIR": str(data_dir),
        "TENANTFUSION_SECRET_KEY": key,
        "TENANTFUSION_LOG_LEVEL": "WARNING",
        **extra,
    }


def wait_healthy(url: str, process: subprocess.Popen[bytes], *, log: Path, seconds: float) -> None:
    """Wait until ``url``/healthz answers 200; fail if ``process`` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, f"{process.args} exited: {log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"{process.args} did not start"
        time.sleep(0.2)


@contextmanager
def serving(env: dict[str, str], *, port: int, log: Path) -> Iterator[str]:
    """`tenantfusion serve` on 127.0.0.1:``port`` (log in ``log``); yields its URL and
    stops it (by its pid) afterwards."""
    with log.open("ab") as out:
        server = subprocess.Popen(
            [str(EXE), "serve", "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, log=log, seconds=90)
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


@contextmanager
def frozen(pool: PoolInfo, services: Sequence[str]) -> Iterator[list[int]]:
    """SIGSTOP the API processes (uwsgi master and workers) of ``services`` in ``pool``:
    they keep their sockets, accept connections and answer nothing. Always SIGCONT."""
    pids = [pid for s in services for pid in service_pids(pool, s)]
    assert pids, f"no running {services} in {pool.name}"
    stopped: list[int] = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield pids
    finally:
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


@dataclass
class Samples:
    """Latencies (ms) and answers of repeated calls."""

    ms: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)

    def p(self, q: float) -> float:
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def sample(
    client: httpx.Client,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    until: Callable[[], bool],
    pause: float = 0.0,
    keep_bodies: bool = True,
) -> Samples:
    """GET ``path`` again and again until ``until()``; every latency, status and body."""
    out = Samples()
    while not until():
        started = time.perf_counter()
        r = client.get(path, headers=headers)
        out.ms.append((time.perf_counter() - started) * 1000)
        out.statuses.append(r.status_code)
        if keep_bodies:
            out.bodies.append(r.json() if r.content else None)
        if pause:
            time.sleep(pause)
    return out


def timer(seconds: float) -> Callable[[], bool]:
    """``until`` for `sample`: true once ``seconds`` have passed."""
    end = time.monotonic() + seconds
    return lambda: time.monotonic() >= end


HAPROXY = Path("/usr/sbin/haproxy")

HAPROXY_CONFIG = """\
global
    maxconn 512

defaults
    mode http
    timeout connect 2s
    timeout client 180s
    timeout server 180s
    option httpchk GET /healthz
    default-server check inter 1s fall 2 rise 1

frontend tenantfusion
    bind 127.0.0.1:{port}
    default_backend replicas

backend replicas
    balance roundrobin
{servers}
"""


def haproxy_config(*, port: int, backends: Sequence[str]) -> str:
    """An HAProxy configuration spreading 127.0.0.1:``port`` over ``backends``
    ("host:port"), round robin, each checked on `/healthz` every second."""
    servers = "\n".join(f"    server r{i} {b}" for i, b in enumerate(backends, 1))
    return HAPROXY_CONFIG.format(port=port, servers=servers)


@contextmanager
def balanced(*, port: int, backends: Sequence[str], folder: Path) -> Iterator[str]:
    """Debian's HAProxy on 127.0.0.1:``port`` in front of ``backends`` (config, pid file and
    log in ``folder``); yields its URL and stops it by its pid."""
    config = folder / "haproxy.cfg"
    config.write_text(haproxy_config(port=port, backends=backends))
    with (folder / "haproxy.log").open("ab") as out:
        proxy = subprocess.Popen(
            [str(HAPROXY), "-db", "-f", str(config), "-p", str(folder / "haproxy.pid")],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proxy, log=folder / "haproxy.log", seconds=20)
        yield url
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
