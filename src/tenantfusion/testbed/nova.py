"""Nova for one pool: API (uwsgi), conductor, scheduler and a fake-driver compute.

Single cell (cell1) plus cell0, one RabbitMQ vhost. nova-compute runs
`fake.PredictableNodeUUIDDriver` with its node identity file written before the first
start (so it comes back on an existing database) and raised allocation ratios so the
fake host holds many servers.
"""

from __future__ import annotations

import time
import uuid

import openstack.connection

from tenantfusion.testbed import backing
from tenantfusion.testbed.context import PoolContext
from tenantfusion.testbed.ini import render
from tenantfusion.testbed.process import Process, UwsgiApp
from tenantfusion.testbed.setup_util import config_daemons, manage, mark_done, marker_done

MARKER = ".nova-ready"
DATABASES = ["nova_api", "nova_cell0", "nova"]
DAEMONS = ("nova-conductor", "nova-scheduler", "nova-compute")


def _conf(ctx: PoolContext) -> str:
    return str(ctx.dir / "nova" / "nova.conf")


def config_text(ctx: PoolContext) -> str:
    """Return nova.conf for the pool."""
    state = ctx.dir / "nova"
    return render(
        {
            "DEFAULT": {
                "debug": False,
                "host": ctx.compute_host,
                "my_ip": "127.0.0.1",
                "transport_url": ctx.transport_url,
                "compute_driver": "fake.PredictableNodeUUIDDriver",
                "state_path": str(state / "state"),
                "instances_path": str(state / "instances"),
                # The fake host has 2 vCPUs, 8 GiB, 1 TiB: let it hold hundreds of servers.
                "cpu_allocation_ratio": 256.0,
                "ram_allocation_ratio": 128.0,
                "disk_allocation_ratio": 64.0,
                "reserved_host_memory_mb": 0,
                "reserved_host_disk_mb": 0,
                "report_interval": 10,
                "service_down_time": 60,
                "heal_instance_info_cache_interval": -1,
                "instance_name_template": "instance-%08x",
                "graceful_shutdown_timeout": 5,
            },
            "api": {"auth_strategy": "keystone"},
            "wsgi": {"api_paste_config": str(ctx.layout.venv / "etc/nova/api-paste.ini")},
            "api_database": {"connection": ctx.db_url("nova_api")},
            "database": {"connection": ctx.db_url("nova")},
            "keystone_authtoken": ctx.authtoken("nova"),
            "service_user": {"send_service_user_token": True, **ctx.service_auth("nova")},
            "placement": ctx.service_auth("placement"),
            "neutron": {**ctx.service_auth("neutron"), "default_floating_pool": "public"},
            "glance": {"region_name": "RegionOne"},
            "conductor": {"workers": 1},
            "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": -1},
            "oslo_concurrency": {"lock_path": str(state / "locks")},
            "oslo_messaging_notifications": {"driver": "noop"},
            "vnc": {"enabled": False},
            "quota": {
                "instances": 1000,
                "cores": 4000,
                "ram": 8192000,
                "key_pairs": 1000,
                "server_groups": 1000,
                "server_group_members": 1000,
            },
        }
    )


def node_uuid(ctx: PoolContext) -> str:
    """The uuid PredictableNodeUUIDDriver reports for the compute host's node."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, ctx.compute_host))


def setup(ctx: PoolContext) -> None:
    """Write nova.conf, node identity (every start); create API, cell0, cell1 DBs (once)."""
    state = ctx.dir / "nova"
    for sub in ("state", "instances", "locks"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "nova.conf").write_text(config_text(ctx))
    (state / "state" / "compute_id").write_text(node_uuid(ctx) + "\n")
    if marker_done(ctx, MARKER):
        return
    backing.recreate_databases(ctx, DATABASES)
    nova_manage = ["nova-manage", "--config-file", _conf(ctx)]
    manage(ctx, [*nova_manage, "api_db", "sync"])
    cell0 = ctx.db_url("nova_cell0")
    manage(ctx, [*nova_manage, "cell_v2", "map_cell0", "--database_connection", cell0])
    manage(ctx, [*nova_manage, "db", "sync"])
    manage(ctx, [*nova_manage, "cell_v2", "create_cell", "--name", "cell1"])
    mark_done(ctx, MARKER)


def processes(ctx: PoolContext) -> list[Process]:
    """nova-api (uwsgi) and the conductor, scheduler and compute daemons."""
    # nova's WSGI app loads its paste pipeline from the first file in the list.
    paste = ctx.layout.venv / "etc/nova/api-paste.ini"
    env = {
        "OS_NOVA_CONFIG_DIR": str(ctx.dir / "nova"),
        "OS_NOVA_CONFIG_FILES": f"{paste};nova.conf",
    }
    api: list[Process] = [
        UwsgiApp(
            name="nova-api",
            port=ctx.port("nova"),
            module="nova.wsgi.osapi_compute:application",
            pidfile=ctx.dir / "nova-api.pid",
            logfile=ctx.dir / "nova-api.log",
            env=env,
            threads=2,
        )
    ]
    return [*api, *config_daemons(ctx, DAEMONS, _conf(ctx))]


def after_start(ctx: PoolContext, conn: openstack.connection.Connection, timeout: float) -> None:
    """Wait for nova-compute to report up and map its node to cell1 (discover_hosts).

    The hypervisor list stays empty until the node is mapped; the node record appears
    shortly after the service, so discovery repeats until the hypervisor shows up.
    """
    deadline = time.monotonic() + timeout
    while not list(conn.compute.hypervisors()):
        if time.monotonic() > deadline:
            log = ctx.dir / "nova-compute.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"nova-compute of {ctx.name} is not up; {log}:\n{tail}")
        services = list(conn.compute.services(binary="nova-compute", host=ctx.compute_host))
        if services and services[0].state == "up":
            manage(ctx, ["nova-manage", "--config-file", _conf(ctx), "cell_v2", "discover_hosts"])
        else:
            time.sleep(1)
