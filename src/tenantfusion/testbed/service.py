"""Bring test-bed pools up and down: `ensure_pools`, `stop_pools`, `start/stop_service`."""

from __future__ import annotations

import fcntl
import shutil
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tenantfusion.testbed import backing, catalog, install, keystone, neutron, seed
from tenantfusion.testbed.client import connect
from tenantfusion.testbed.context import REGION, PoolContext
from tenantfusion.testbed.layout import MAX_POOLS, Layout
from tenantfusion.testbed.pool import PoolInfo, read_pools_json, write_pools_json
from tenantfusion.testbed.process import (
    Process,
    UwsgiApp,
    children,
    is_healthy,
    rss_kib,
    running_pid,
    start,
    stop_pidfile,
    wait_healthy,
)
from tenantfusion.testbed.progress import Report, Step, quiet
from tenantfusion.testbed.registry import KIND_SERVICES, SERVICES, ServiceSpec, all_processes
from tenantfusion.testbed.setup_util import mark_done, marker_done

START_TIMEOUT = 180.0
SEED_MARKER = ".seed-ready"


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


def pool_kind(ctx: PoolContext) -> str | None:
    """The kind a pool was last brought up as (None for a pool never set up)."""
    path = ctx.dir / "kind"
    return path.read_text().strip() if path.exists() else None


def _info(ctx: PoolContext, kind: str) -> PoolInfo:
    return PoolInfo(
        name=ctx.name,
        index=ctx.index,
        kind=kind,
        auth_url=ctx.auth_url,
        username=keystone.ADMIN_USER,
        password=ctx.secrets["admin_password"],
        project_name=keystone.ADMIN_PROJECT,
        region_name=REGION,
        ports={name: ctx.port(name) for name in KIND_SERVICES[kind]},
    )


def _is_up(process: Process) -> bool:
    if running_pid(process.pidfile) is None:
        return False
    return not isinstance(process, UwsgiApp) or is_healthy(process.health_url)


def _start(ctx: PoolContext, processes: Sequence[Process], timeout: float) -> None:
    """Start the processes that are not up (all at once), then wait for the APIs."""
    _wait_up(_launch(ctx, processes, timeout), timeout)


def _launch(ctx: PoolContext, processes: Sequence[Process], timeout: float) -> list[Process]:
    """Start the processes that are not up (a wedged one again); those started."""
    launched = []
    for process in processes:
        if running_pid(process.pidfile) is not None:
            if _is_up(process):
                continue
            if isinstance(process, UwsgiApp):
                try:
                    wait_healthy(process, timeout=min(timeout, 30.0))
                    continue
                except RuntimeError:
                    pass
            stop_pidfile(process.pidfile)
        if isinstance(process, UwsgiApp) and is_healthy(process.health_url):
            raise RuntimeError(f"port {process.port} serves something not started by this bed")
        start(process, ctx.layout.venv)
        launched.append(process)
    return launched


def _wait_up(launched: Sequence[Process], timeout: float) -> None:
    for process in launched:
        if isinstance(process, UwsgiApp):
            wait_healthy(process, timeout=timeout)


def _ensure_pool(layout: Layout, index: int, kind: str, timeout: float, report: Report) -> PoolInfo:
    ctx = PoolContext.create(layout, index)
    if pool_kind(ctx) == "full":
        kind = "full"
    if all(_is_up(p) for p in all_processes(ctx, kind)):
        for name in KIND_SERVICES[kind]:
            report(Step(ctx.name, name, "running", done=True))
        return _info(ctx, kind)
    if kind == "full":
        _ensure_full(ctx, timeout, report)
    else:
        _ensure_keystone(ctx, timeout, report)
        report(Step(ctx.name, "keystone", "up", done=True))
    (ctx.dir / "kind").write_text(kind + "\n")
    return _info(ctx, kind)


def _ensure_keystone(ctx: PoolContext, timeout: float, report: Report = quiet) -> None:
    report(Step(ctx.name, "keystone", "setting up"))
    keystone.setup(ctx)
    report(Step(ctx.name, "keystone", "starting"))
    _start(ctx, SERVICES["keystone"].processes(ctx), timeout)


def _ensure_catalog(ctx: PoolContext, timeout: float, report: Report) -> None:
    _ensure_keystone(ctx, timeout, report)
    if not catalog.is_registered(ctx):
        report(Step(ctx.name, "keystone", "registering the catalog"))
        catalog.register(ctx, connect(_info(ctx, "keystone")))
    report(Step(ctx.name, "keystone", "up", done=True))


def _setup(ctx: PoolContext, spec: ServiceSpec, report: Report) -> None:
    report(Step(ctx.name, spec.name, "setting up"))
    spec.setup(ctx)
    report(Step(ctx.name, spec.name, "set up; waiting"))


def _ensure_full(ctx: PoolContext, timeout: float, report: Report) -> None:
    """Keystone and the other services' database setup run side by side, then the rest
    start all at once; each is reported up when its API answers."""
    backing.ensure_vhost(ctx)
    specs = [SERVICES[name] for name in KIND_SERVICES["full"] if name != "keystone"]
    with ThreadPoolExecutor(max_workers=1 + len(specs)) as executor:
        futures = [executor.submit(_ensure_catalog, ctx, timeout, report)]
        futures += [executor.submit(_setup, ctx, spec, report) for spec in specs]
        for future in futures:
            future.result()
    conn = connect(_info(ctx, "full"))  # a token issued after the catalog is complete
    for spec in specs:
        if spec.before_start and not all(_is_up(p) for p in spec.processes(ctx)):
            spec.before_start(ctx)
    launched = {}
    for spec in specs:
        report(Step(ctx.name, spec.name, "starting"))
        launched[spec.name] = _launch(ctx, spec.processes(ctx), timeout)
    for spec in specs:
        _wait_up(launched[spec.name], timeout)
        if spec.after_start:
            spec.after_start(ctx, conn, timeout)
        if spec is not specs[-1]:  # the last (Nova) is up once its flavors and images are in
            report(Step(ctx.name, spec.name, "up", done=True))
    last = specs[-1].name
    if not marker_done(ctx, SEED_MARKER):
        report(Step(ctx.name, last, "adding flavors, images"))
        seed.ensure_all(conn)
        mark_done(ctx, SEED_MARKER)
    report(Step(ctx.name, last, "up", done=True))


def ensure_pools(
    count: int = 1,
    kind: str = "keystone",
    root: Path | str | None = None,
    *,
    port_offset: int | None = None,
    timeout: float = START_TIMEOUT,
    report: Report = quiet,
) -> list[PoolInfo]:
    """Make pools 1..`count` of `kind` run (reusing healthy ones) and return their info.

    A pool once brought up as "full" stays full. Installs the OpenStack venv first when
    needed; missing pools start concurrently. Writes the result to `<root>/pools.json`.
    `port_offset` (a multiple of 100, saved under root) moves all ports, for a second
    test bed on one machine. Raises RuntimeError when a service does not come up within
    `timeout` seconds, ValueError on a bad kind or count. `report` gets a `Step` whenever
    a pool's service (or the installer) changes phase, from the pools' threads.
    """
    if kind not in KIND_SERVICES:
        raise ValueError(f"kind must be one of {sorted(KIND_SERVICES)}")
    if not 1 <= count <= MAX_POOLS:
        raise ValueError(f"count must be 1..{MAX_POOLS}")
    layout = Layout.at(root, port_offset)
    with _locked(layout):
        layout.save()
        install.ensure_venv(layout, report)
        indexes = range(1, count + 1)
        with ThreadPoolExecutor(max_workers=count) as executor:
            futures = [
                executor.submit(_ensure_pool, layout, i, kind, timeout, report) for i in indexes
            ]
            pools = [f.result() for f in futures]
        write_pools_json(layout.pools_json, pools)
    return pools


def _pool_processes(layout: Layout, index: int) -> list[Process]:
    ctx = PoolContext.create(layout, index)
    return all_processes(ctx, pool_kind(ctx) or "keystone")


def stop_pools(root: Path | str | None = None, *, indexes: list[int] | None = None) -> list[str]:
    """Stop every process of the given pools (default: all under root); return what stopped.

    All processes are signalled at once and waited for (oslo daemons take seconds).
    """
    layout = Layout.at(root)
    with _locked(layout):
        pidfiles: list[tuple[int, Path]] = []
        for index in indexes or layout.existing_pool_indexes():
            known = [p.pidfile for p in reversed(_pool_processes(layout, index))]
            strays = sorted(set(layout.pool_dir(index).glob("*.pid")) - set(known))
            pidfiles += [(index, pidfile) for pidfile in [*known, *strays]]
        with ThreadPoolExecutor(max_workers=max(1, len(pidfiles))) as executor:
            results = list(executor.map(lambda item: stop_pidfile(item[1]), pidfiles))
    pairs = zip(pidfiles, results, strict=True)
    return [f"pool{i}/{f.stem}" for (i, f), was_running in pairs if was_running]


def destroy_pools(root: Path | str | None = None, *, indexes: list[int] | None = None) -> list[str]:
    """Stop the pools, drop their MariaDB databases, user and RabbitMQ vhost, delete folders.

    The next `ensure_pools` builds them from scratch. Returns the pools destroyed.
    """
    layout = Layout.at(root)
    indexes = indexes or layout.existing_pool_indexes()
    stop_pools(root, indexes=indexes)
    destroyed = []
    with _locked(layout):
        for index in indexes:
            ctx = PoolContext.create(layout, index)
            if pool_kind(ctx) == "full" or marker_done(ctx, catalog.MARKER):
                backing.drop_databases(ctx, backing.ALL_DATABASES)
                backing.delete_vhost(ctx)
            shutil.rmtree(ctx.dir)
            destroyed.append(ctx.name)
        if not layout.existing_pool_indexes():
            layout.pools_json.unlink(missing_ok=True)
    return destroyed


def _index(pool: PoolInfo | str | int) -> int:
    if isinstance(pool, PoolInfo):
        return pool.index
    if isinstance(pool, int):
        return pool
    return int(pool.removeprefix("pool").removeprefix("-"))


def _process(layout: Layout, pool: PoolInfo | str | int, name: str) -> Process:
    if name in SERVICES:
        name = SERVICES[name].api_process
    processes = {p.name: p for p in _pool_processes(layout, _index(pool))}
    if name not in processes:
        raise ValueError(f"unknown process {name!r}; known: {sorted(processes)}")
    return processes[name]


def stop_service(
    pool: PoolInfo | str | int, service: str = "keystone", root: Path | str | None = None
) -> bool:
    """Stop one process of one pool; True if it was running.

    `service` is a process name ("nova-api", "nova-compute", ...) or a service name,
    which means its API process ("nova" -> "nova-api"): the way to simulate an outage.
    """
    layout = Layout.at(root)
    with _locked(layout):
        return stop_pidfile(_process(layout, pool, service).pidfile)


def service_pids(
    pool: PoolInfo | str | int, service: str = "keystone", root: Path | str | None = None
) -> list[int]:
    """Pids of one process of one pool and its children (a uwsgi master and its workers;
    names as in `stop_service`), for tests that freeze a pool with SIGSTOP/SIGCONT.
    Empty when it is not running."""
    pid = running_pid(_process(Layout.at(root), pool, service).pidfile)
    return [] if pid is None else [pid, *children(pid)]


def start_service(
    pool: PoolInfo | str | int,
    service: str = "keystone",
    root: Path | str | None = None,
    *,
    timeout: float = START_TIMEOUT,
) -> None:
    """Start one process of one pool again (names as in `stop_service`); wait for its API."""
    layout = Layout.at(root)
    with _locked(layout):
        process = _process(layout, pool, service)
        ctx = PoolContext.create(layout, _index(pool))
        if process.name == "neutron":
            neutron.before_start(ctx)
        _start(ctx, [process], timeout)


def load_pools(root: Path | str | None = None) -> list[PoolInfo]:
    """Pools written by the last `ensure_pools` (no health check)."""
    return read_pools_json(Layout.at(root).pools_json)


def _process_status(process: Process) -> dict[str, Any]:
    pid = running_pid(process.pidfile)
    entry: dict[str, Any] = {"pid": pid, "rss_mib": round(rss_kib(process.pidfile) / 1024, 1)}
    if isinstance(process, UwsgiApp):
        entry["port"] = process.port
        entry["healthy"] = pid is not None and is_healthy(process.health_url, timeout=2.0)
    else:
        entry["healthy"] = pid is not None
    return entry


def status(root: Path | str | None = None) -> dict[str, Any]:
    """Report install state and, per pool and process, pid, health and RSS."""
    layout = Layout.at(root)
    pools: dict[str, Any] = {}
    for index in layout.existing_pool_indexes():
        ctx = PoolContext.create(layout, index)
        kind = pool_kind(ctx) or "keystone"
        services = {p.name: _process_status(p) for p in all_processes(ctx, kind)}
        pools[ctx.name] = {
            "kind": kind,
            "auth_url": ctx.auth_url,
            "services": services,
            "up": all(s["healthy"] for s in services.values()),
            "rss_mib": round(sum(s["rss_mib"] for s in services.values()), 1),
        }
    return {
        "root": str(layout.root),
        "port_offset": layout.port_offset,
        "venv_installed": install.is_installed(layout),
        "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "pools": pools,
    }
