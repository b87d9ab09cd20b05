"""Glance for one pool: MariaDB database, file store under the pool folder, uwsgi API."""

from __future__ import annotations

from tenantfusion.testbed import backing
from tenantfusion.testbed.context import PoolContext
from tenantfusion.testbed.ini import render
from tenantfusion.testbed.process import UwsgiApp
from tenantfusion.testbed.setup_util import manage, mark_done, marker_done

MARKER = ".glance-ready"


def setup(ctx: PoolContext) -> None:
    """Write glance-api.conf (every start); create and migrate its database (once)."""
    conf_dir = ctx.dir / "glance"
    stores = {name: conf_dir / name for name in ("images", "staging", "tasks", "locks")}
    for path in stores.values():
        path.mkdir(parents=True, exist_ok=True)
    conf = conf_dir / "glance-api.conf"
    conf.write_text(
        render(
            {
                "DEFAULT": {
                    "debug": False,
                    "enabled_backends": "fs:file",
                    "worker_self_reference_url": ctx.url("glance"),
                    "public_endpoint": ctx.url("glance"),
                },
                "database": {"connection": ctx.db_url("glance")},
                "keystone_authtoken": ctx.authtoken("glance"),
                "paste_deploy": {
                    "flavor": "keystone",
                    "config_file": str(ctx.layout.venv / "etc/glance/glance-api-paste.ini"),
                },
                "glance_store": {"default_backend": "fs"},
                "fs": {"filesystem_store_datadir": f"{stores['images']}/"},
                "os_glance_staging_store": {"filesystem_store_datadir": f"{stores['staging']}/"},
                "os_glance_tasks_store": {"filesystem_store_datadir": f"{stores['tasks']}/"},
                "oslo_concurrency": {"lock_path": str(stores["locks"])},
                "wsgi": {"python_interpreter": str(ctx.layout.venv_bin("python"))},
            }
        )
    )
    if marker_done(ctx, MARKER):
        return
    backing.recreate_databases(ctx, ["glance"])
    manage(ctx, ["glance-manage", "--config-file", str(conf), "db_sync"])
    mark_done(ctx, MARKER)


def processes(ctx: PoolContext) -> list[UwsgiApp]:
    """Glance's uwsgi app."""
    return [
        UwsgiApp(
            name="glance",
            port=ctx.port("glance"),
            module="glance.wsgi.api:application",
            pidfile=ctx.dir / "glance.pid",
            logfile=ctx.dir / "glance.log",
            env={"OS_GLANCE_CONFIG_DIR": str(ctx.dir / "glance")},
            threads=2,
        )
    ]
