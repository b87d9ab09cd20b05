"""Neutron API-only for one pool: ML2/openvswitch with a fake agent row, L3 routers.

No agents run. A fake Open vSwitch agent row on the compute host (fresh heartbeat on
every start, `agent_down_time` at its maximum) lets ports bind, so Nova can boot
servers; networks, subnets, routers (also `distributed=True`) and floating IPs are
real database objects, ports stay DOWN.
"""

from __future__ import annotations

import json
import subprocess

from tenantfusion.testbed import backing
from tenantfusion.testbed.context import PoolContext
from tenantfusion.testbed.ini import render
from tenantfusion.testbed.process import UwsgiApp
from tenantfusion.testbed.setup_util import manage, mark_done, marker_done

MARKER = ".neutron-ready"
PHYSNET = "public"
AGENT_DOWN_TIME = 2147483  # the largest value neutron accepts: the fake agent never expires

_AGENT_SQL = """
import json, sys, uuid, pymysql
cfg = json.loads(sys.stdin.read())
db = pymysql.connect(**cfg["db"])
with db.cursor() as cur:
    cur.execute(
        "INSERT INTO agents (id, agent_type, `binary`, topic, host, admin_state_up,"
        " created_at, started_at, heartbeat_timestamp, configurations, `load`,"
        " resources_synced) VALUES (%s, 'Open vSwitch agent', 'neutron-openvswitch-agent',"
        " 'N/A', %s, 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP(), %s, 0, NULL)"
        " ON DUPLICATE KEY UPDATE heartbeat_timestamp = UTC_TIMESTAMP(),"
        " started_at = UTC_TIMESTAMP(), configurations = VALUES(configurations),"
        " admin_state_up = 1",
        (str(uuid.uuid4()), cfg["host"], cfg["configurations"]),
    )
db.commit()
"""


def _conf_dir(ctx: PoolContext) -> str:
    return str(ctx.dir / "neutron")


def _config_args(ctx: PoolContext) -> list[str]:
    conf_dir = ctx.dir / "neutron"
    return [
        "--config-file",
        str(conf_dir / "neutron.conf"),
        "--config-file",
        str(conf_dir / "ml2_conf.ini"),
    ]


def setup(ctx: PoolContext) -> None:
    """Write neutron.conf, ml2_conf.ini (every start); create, migrate the database (once)."""
    conf_dir = ctx.dir / "neutron"
    (conf_dir / "locks").mkdir(parents=True, exist_ok=True)
    (conf_dir / "neutron.conf").write_text(
        render(
            {
                "DEFAULT": {
                    "debug": False,
                    "core_plugin": "ml2",
                    "service_plugins": "router,tag",
                    "auth_strategy": "keystone",
                    "allow_overlapping_ips": True,
                    "transport_url": ctx.transport_url,
                    "agent_down_time": AGENT_DOWN_TIME,
                    "api_workers": 1,
                    "rpc_workers": 0,
                    "rpc_state_report_workers": 0,
                    "dhcp_agent_notification": False,
                    "router_distributed": False,
                    "notify_nova_on_port_status_changes": True,
                    "notify_nova_on_port_data_changes": True,
                    "state_path": str(conf_dir),
                    "api_paste_config": str(ctx.layout.venv / "etc/neutron/api-paste.ini"),
                },
                "database": {"connection": ctx.db_url("neutron")},
                "keystone_authtoken": ctx.authtoken("neutron"),
                "nova": ctx.service_auth("nova"),
                "oslo_concurrency": {"lock_path": str(conf_dir / "locks")},
                "oslo_messaging_notifications": {"driver": "noop"},
                "quotas": {
                    "quota_network": 1000,
                    "quota_subnet": 1000,
                    "quota_port": 10000,
                    "quota_router": 1000,
                    "quota_floatingip": 1000,
                    "quota_security_group": 1000,
                    "quota_security_group_rule": 10000,
                },
            }
        )
    )
    (conf_dir / "ml2_conf.ini").write_text(
        render(
            {
                "ml2": {
                    "type_drivers": "flat,vlan,vxlan",
                    "tenant_network_types": "vxlan",
                    "mechanism_drivers": "openvswitch",
                    "extension_drivers": "port_security",
                },
                "ml2_type_flat": {"flat_networks": PHYSNET},
                "ml2_type_vxlan": {"vni_ranges": "1:10000"},
                "securitygroup": {"enable_security_group": True},
            }
        )
    )
    if marker_done(ctx, MARKER):
        return
    backing.recreate_databases(ctx, ["neutron"])
    manage(ctx, ["neutron-db-manage", *_config_args(ctx), "upgrade", "heads"])
    mark_done(ctx, MARKER)


def refresh_fake_agent(ctx: PoolContext) -> None:
    """Insert the fake OVS agent for the compute host, or refresh its heartbeat."""
    configurations = {
        "bridge_mappings": {PHYSNET: "br-ex"},
        "tunnel_types": ["vxlan"],
        "tunneling_ip": "127.0.0.1",
        "integration_bridge": "br-int",
        "datapath_type": "system",
        "ovs_hybrid_plug": False,
        "ovs_capabilities": {"datapath_types": ["system"], "iface_types": ["internal", "vxlan"]},
        "l2_population": False,
        "enable_distributed_routing": False,
        "in_distributed_mode": False,
        "devices": 0,
        "extensions": [],
    }
    payload = {
        "db": {
            "host": "127.0.0.1",
            "port": 3306,
            "user": ctx.slug,
            "password": ctx.secrets["db_password"],
            "database": ctx.database("neutron"),
        },
        "host": ctx.compute_host,
        "configurations": json.dumps(configurations),
    }
    subprocess.run(
        [str(ctx.layout.venv_bin("python")), "-c", _AGENT_SQL],
        input=json.dumps(payload),
        text=True,
        check=True,
    )


def processes(ctx: PoolContext) -> list[UwsgiApp]:
    """Neutron's uwsgi API app (no RPC server, no agents)."""
    return [
        UwsgiApp(
            name="neutron",
            port=ctx.port("neutron"),
            module="neutron.wsgi.api:application",
            pidfile=ctx.dir / "neutron.pid",
            logfile=ctx.dir / "neutron.log",
            env={
                "OS_NEUTRON_CONFIG_DIR": _conf_dir(ctx),
                "OS_NEUTRON_CONFIG_FILES": "neutron.conf;ml2_conf.ini",
            },
        )
    ]


def before_start(ctx: PoolContext) -> None:
    """Every start: a fresh heartbeat for the fake agent."""
    refresh_fake_agent(ctx)
