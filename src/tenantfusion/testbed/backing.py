"""Per-pool MariaDB databases/user and RabbitMQ vhost/user on the machine's servers.

MariaDB's root logs in over the unix socket, which PyMySQL cannot use, so admin SQL
goes through the `mysql` client; services then use a dedicated user over TCP
127.0.0.1. Only names starting with the pool's slug (`tf_poolN`) are ever touched.
"""

from __future__ import annotations

import subprocess

from tenantfusion.testbed.context import PoolContext

#: every database a full pool has (suffixes after the pool's slug)
ALL_DATABASES = ["placement", "glance", "neutron", "nova_api", "nova_cell0", "nova", "cinder"]


def _mysql(sql: str) -> None:
    subprocess.run(["mysql", "-uroot", "--batch"], input=sql, text=True, check=True)


def recreate_databases(ctx: PoolContext, services: list[str]) -> None:
    """Drop and create this pool's databases for `services`; (re)set the pool's DB user."""
    user = f"'{ctx.slug}'@'127.0.0.1'"
    password = ctx.secrets["db_password"]
    statements = [
        f"CREATE USER IF NOT EXISTS {user} IDENTIFIED BY '{password}';",
        f"ALTER USER {user} IDENTIFIED BY '{password}';",
    ]
    for service in services:
        name = ctx.database(service)
        statements += [
            f"DROP DATABASE IF EXISTS `{name}`;",
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;",
            f"GRANT ALL PRIVILEGES ON `{name}`.* TO {user};",
        ]
    _mysql("\n".join(statements))


def drop_databases(ctx: PoolContext, services: list[str]) -> None:
    """Drop this pool's databases for `services` and its DB user (for `destroy`)."""
    statements = [f"DROP DATABASE IF EXISTS `{ctx.database(s)}`;" for s in services]
    statements.append(f"DROP USER IF EXISTS '{ctx.slug}'@'127.0.0.1';")
    _mysql("\n".join(statements))


def _rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, check=check
    )


def ensure_vhost(ctx: PoolContext) -> None:
    """Create the pool's vhost and user (password from the pool's secrets), grant it all."""
    password = ctx.secrets["rabbit_password"]
    # "--": a password may start with "-" (token_urlsafe), which rabbitmqctl would take
    # for an option (exit 64)
    if _rabbitmqctl("add_user", "--", ctx.slug, password, check=False).returncode != 0:
        _rabbitmqctl("change_password", "--", ctx.slug, password)
    _rabbitmqctl("add_vhost", ctx.slug)
    _rabbitmqctl("set_permissions", "-p", ctx.slug, ctx.slug, ".*", ".*", ".*")


def delete_vhost(ctx: PoolContext) -> None:
    """Delete the pool's vhost and user (for `destroy`)."""
    _rabbitmqctl("delete_vhost", ctx.slug, check=False)
    _rabbitmqctl("delete_user", ctx.slug, check=False)
