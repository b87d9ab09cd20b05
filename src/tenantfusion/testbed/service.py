"""Bring test-bed pools up and down: `ensure_pools`, `stop_pools`, `start/stop_service`."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tenantfusion.testbed import install, keystone
from tenantfusion.testbed.layout import MAX_POOLS, Layout
from tenantfusion.testbed.pool import (
    KINDS,
    PoolInfo,
    admin_password,
    pool_name,
    read_pools_json,
    write_pools_json,
)
from tenantfusion.testbed.process import (
    UwsgiApp,
    is_healthy,
    rss_kib,
    running_pid,
    start_uwsgi,
    stop_pidfile,
    wait_healthy,
)

#: Services of each pool kind, in start order.
KIND_SERVICES: dict[str, tuple[str, ...]] = {"keystone": ("keystone",)}
START_TIMEOUT = 120.0


@contextmanager
def _locked(layout: Layout) -> Iterator[None]:
    """Serialize test-bed changes across processes (pytest-xdist workers, CLI)."""
    layout.root.mkdir(parents=True, exist_ok=True)
    with layout.lock_file.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _apps(layout: Layout, index: int, kind: str) -> dict[str, UwsgiApp]:
    return {name: keystone.app(layout, index) for name in KIND_SERVICES[kind]}


def _info(layout: Layout, index: int, kind: str) -> PoolInfo:
    return PoolInfo(
        name=pool_name(index),
        index=index,
        kind=kind,
        auth_url=keystone.auth_url(layout, index),
        username=keystone.ADMIN_USER,
        password=admin_password(layout.pool_dir(index)),
        project_name=keystone.ADMIN_PROJECT,
        region_name=keystone.REGION,
        ports={name: layout.port(name, index) for name in KIND_SERVICES[kind]},
    )


def _start_app(layout: Layout, app: UwsgiApp, timeout: float) -> None:
    """Start `app` unless its master is alive and healthy; restart it when it is wedged."""
    if running_pid(app.pidfile) is not None:
        try:
            wait_healthy(app.health_url, timeout=timeout, pidfile=app.pidfile, logfile=app.logfile)
            return
        except RuntimeError:
            stop_pidfile(app.pidfile)
    if is_healthy(app.health_url):
        raise RuntimeError(f"port {app.port} already serves something not started by this bed")
    start_uwsgi(app, layout.venv)
    wait_healthy(app.health_url, timeout=timeout, pidfile=app.pidfile, logfile=app.logfile)


def _ensure_pool(layout: Layout, index: int, kind: str, timeout: float) -> PoolInfo:
    info = _info(layout, index, kind)
    keystone.setup(layout, index, password=info.password)
    for app in _apps(layout, index, kind).values():
        _start_app(layout, app, timeout)
    return info


def ensure_pools(
    count: int = 1,
    kind: str = "keystone",
    root: Path | str | None = None,
    *,
    port_offset: int | None = None,
    timeout: float = START_TIMEOUT,
) -> list[PoolInfo]:
    """Make pools 1..`count` of `kind` run (reusing healthy ones) and return their info.

    Installs the OpenStack venv first when needed; missing pools start concurrently.
    Writes the result to `<root>/pools.json`. `port_offset` (a multiple of 100, saved
    under root) moves all ports, for a second test bed on one machine. Raises
    RuntimeError when a service does not become healthy within `timeout` seconds,
    ValueError on a bad kind or count.
    """
    if kind not in KIND_SERVICES:
        raise ValueError(f"kind must be one of {sorted(KIND_SERVICES)} (known: {KINDS})")
    if not 1 <= count <= MAX_POOLS:
        raise ValueError(f"count must be 1..{MAX_POOLS}")
    layout = Layout.at(root, port_offset)
    with _locked(layout):
        layout.save()
        install.ensure_venv(layout)
        indexes = range(1, count + 1)
        with ThreadPoolExecutor(max_workers=count) as executor:
            futures = [executor.submit(_ensure_pool, layout, i, kind, timeout) for i in indexes]
            pools = [f.result() for f in futures]
        write_pools_json(layout.pools_json, pools)
    return pools


def stop_pools(root: Path | str | None = None, *, indexes: list[int] | None = None) -> list[str]:
    """Stop every service of the given pools (default: all under root); return what stopped."""
    layout = Layout.at(root)
    stopped = []
    with _locked(layout):
        for index in indexes or layout.existing_pool_indexes():
            for pidfile in sorted(layout.pool_dir(index).glob("*.pid")):
                if stop_pidfile(pidfile):
                    stopped.append(f"{pool_name(index)}/{pidfile.stem}")
    return stopped


def _index(pool: PoolInfo | str | int) -> int:
    if isinstance(pool, PoolInfo):
        return pool.index
    if isinstance(pool, int):
        return pool
    return int(pool.removeprefix("pool").removeprefix("-"))


def _app(layout: Layout, pool: PoolInfo | str | int, service: str) -> UwsgiApp:
    apps = _apps(layout, _index(pool), "keystone")
    if service not in apps:
        raise ValueError(f"unknown service {service!r}; known: {sorted(apps)}")
    return apps[service]


def stop_service(
    pool: PoolInfo | str | int, service: str = "keystone", root: Path | str | None = None
) -> bool:
    """Stop one service of one pool (simulates an API outage); True if it was running."""
    layout = Layout.at(root)
    with _locked(layout):
        return stop_pidfile(_app(layout, pool, service).pidfile)


def start_service(
    pool: PoolInfo | str | int,
    service: str = "keystone",
    root: Path | str | None = None,
    *,
    timeout: float = START_TIMEOUT,
) -> None:
    """Start one service of one pool again and wait until it is healthy."""
    layout = Layout.at(root)
    with _locked(layout):
        _start_app(layout, _app(layout, pool, service), timeout)


def load_pools(root: Path | str | None = None) -> list[PoolInfo]:
    """Pools written by the last `ensure_pools` (no health check)."""
    return read_pools_json(Layout.at(root).pools_json)


def status(root: Path | str | None = None) -> dict[str, Any]:
    """Report install state and, per pool and service, pid, health and RSS."""
    layout = Layout.at(root)
    pools: dict[str, Any] = {}
    for index in layout.existing_pool_indexes():
        services: dict[str, Any] = {}
        for name, app in _apps(layout, index, "keystone").items():
            pid = running_pid(app.pidfile)
            services[name] = {
                "port": app.port,
                "pid": pid,
                "healthy": pid is not None and is_healthy(app.health_url, timeout=2.0),
                "rss_mib": round(rss_kib(app.pidfile) / 1024, 1),
            }
        pools[pool_name(index)] = {
            "auth_url": keystone.auth_url(layout, index),
            "services": services,
            "up": all(s["healthy"] for s in services.values()),
        }
    return {
        "root": str(layout.root),
        "venv_installed": install.is_installed(layout),
        "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "pools": pools,
    }
