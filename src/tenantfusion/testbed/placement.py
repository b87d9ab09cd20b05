"""Placement for one pool: MariaDB database, uwsgi API."""

from __future__ import annotations

from tenantfusion.testbed import backing
from tenantfusion.testbed.context import PoolContext
from tenantfusion.testbed.ini import render
from tenantfusion.testbed.process import UwsgiApp
from tenantfusion.testbed.setup_util import manage, mark_done, marker_done

MARKER = ".placement-ready"


def _conf_dir(ctx: PoolContext) -> str:
    return str(ctx.dir / "placement")


def setup(ctx: PoolContext) -> None:
    """Write placement.conf (every start); create and migrate its database (once)."""
    conf_dir = ctx.dir / "placement"
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "placement.conf").write_text(
        render(
            {
                "DEFAULT": {"debug": False},
                "api": {"auth_strategy": "keystone"},
                "placement_database": {"connection": ctx.db_url("placement")},
                "keystone_authtoken": ctx.authtoken("placement"),
            }
        )
    )
    if marker_done(ctx, MARKER):
        return
    backing.recreate_databases(ctx, ["placement"])
    manage(
        ctx, ["placement-manage", "--config-file", str(conf_dir / "placement.conf"), "db", "sync"]
    )
    mark_done(ctx, MARKER)


def processes(ctx: PoolContext) -> list[UwsgiApp]:
    """Placement's uwsgi app."""
    return [
        UwsgiApp(
            name="placement",
            port=ctx.port("placement"),
            module="placement.wsgi.api:application",
            pidfile=ctx.dir / "placement.pid",
            logfile=ctx.dir / "placement.log",
            env={"OS_PLACEMENT_CONFIG_DIR": _conf_dir(ctx)},
        )
    ]
