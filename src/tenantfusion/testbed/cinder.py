"""Cinder for one pool: API (uwsgi), scheduler and a volume service that stores nothing.

Backend: ``cinder.tests.fake_driver.FakeLoggingVolumeDriver``, the driver Cinder's own
functional tests run on, which ships in the ``cinder`` wheel. It is the LVM driver with
every command replaced by a no-op (``fake_execute``) and a fake volume group: volumes,
attachments and quotas are real rows in Cinder's database and go through the real API,
scheduler and volume service over RabbitMQ, but no block device, loop file, LVM, iSCSI
target or sudo is ever needed, and it reports infinite capacity, so any size fits.
Its connection info is a fake iSCSI one, which Nova's fake virt driver accepts as is:
attach and detach run Cinder's and Nova's whole attachment flow. (Other in-tree choices
need system changes: LVM a volume group and a target daemon, NFS a mount.)
"""

from __future__ import annotations

from tenantfusion.testbed import backing
from tenantfusion.testbed.context import PoolContext
from tenantfusion.testbed.ini import render
from tenantfusion.testbed.process import Process, UwsgiApp
from tenantfusion.testbed.setup_util import config_daemons, manage, mark_done, marker_done

MARKER = ".cinder-ready"
BACKEND = "fake"
DRIVER = "cinder.tests.fake_driver.FakeLoggingVolumeDriver"
DAEMONS = ("cinder-scheduler", "cinder-volume")


def _conf(ctx: PoolContext) -> str:
    return str(ctx.dir / "cinder" / "cinder.conf")


def config_text(ctx: PoolContext) -> str:
    """Return cinder.conf for the pool."""
    state = ctx.dir / "cinder"
    return render(
        {
            "DEFAULT": {
                "debug": False,
                "host": f"tf-pool{ctx.layout.port_offset + ctx.index}-volume",
                "my_ip": "127.0.0.1",
                "transport_url": ctx.transport_url,
                "auth_strategy": "keystone",
                "state_path": str(state / "state"),
                "api_paste_config": str(ctx.layout.venv / "etc/cinder/api-paste.ini"),
                # the filters users may list by (`metadata`: how tenantfusion finds a
                # volume by its record); without this file only admins may filter
                "resource_query_filters_file": str(
                    ctx.layout.venv / "etc/cinder/resource_filters.json"
                ),
                "enabled_backends": BACKEND,
                "osapi_volume_workers": 1,
                "scheduler_default_filters": "AvailabilityZoneFilter,CapacityFilter",
                "report_interval": 10,
                "service_down_time": 60,
                "quota_volumes": 1000,
                "quota_snapshots": 1000,
                "quota_gigabytes": 100000,
                "quota_backups": 1000,
                "quota_backup_gigabytes": 100000,
                "graceful_shutdown_timeout": 5,
            },
            BACKEND: {"volume_driver": DRIVER, "volume_backend_name": BACKEND},
            "database": {"connection": ctx.db_url("cinder")},
            "keystone_authtoken": ctx.authtoken("cinder"),
            "nova": {**ctx.service_auth("cinder"), "interface": "public"},
            "coordination": {"backend_url": f"file://{state / 'state'}"},
            "oslo_concurrency": {"lock_path": str(state / "locks")},
            "oslo_messaging_notifications": {"driver": "noop"},
        }
    )


def setup(ctx: PoolContext) -> None:
    """Write cinder.conf (every start); create and migrate its database (once)."""
    state = ctx.dir / "cinder"
    for sub in ("state", "locks"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "cinder.conf").write_text(config_text(ctx))
    if marker_done(ctx, MARKER):
        return
    backing.recreate_databases(ctx, ["cinder"])
    manage(ctx, ["cinder-manage", "--config-file", _conf(ctx), "db", "sync"])
    mark_done(ctx, MARKER)


def processes(ctx: PoolContext) -> list[Process]:
    """cinder-api (uwsgi; Cinder's WSGI app reads its config files from sys.argv) and the
    scheduler and volume daemons."""
    api: list[Process] = [
        UwsgiApp(
            name="cinder-api",
            port=ctx.port("cinder"),
            module="cinder.wsgi.api:application",
            pidfile=ctx.dir / "cinder-api.pid",
            logfile=ctx.dir / "cinder-api.log",
            argv=("--config-file", _conf(ctx)),
            threads=2,
        )
    ]
    return [*api, *config_daemons(ctx, DAEMONS, _conf(ctx))]
