"""Platform groups: tenants, users, pools, mappings, jobs, audit."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tenantfusion.client.base import (
    Output,
    OutputOpt,
    TenantOpt,
    UrlOpt,
    WaitOpt,
    client,
    one_line_errors,
    resource_group,
    tenant_path,
    wait_job,
)
from tenantfusion.client.output import emit

POOL_COLUMNS = ("name", "status", "services", "features", "labels", "status_reason")
tenants = resource_group(
    name="tenants", path="tenants", columns=("id", "name", "is_enabled"), help="Tenants (admin)"
)
users = resource_group(
    name="users",
    path="tenants/{tenant}/users",
    columns=("id", "username", "role", "is_enabled"),
    help="Users of a tenant",
    filters=False,
)
pools = resource_group(name="pools", path="pools", columns=POOL_COLUMNS, help="Resource pools")
mappings = resource_group(
    name="mappings",
    path="tenants/{tenant}/mappings",
    columns=("pool", "state", "project_name", "remote_id", "last_step"),
    help="A tenant's projects in the pools",
    filters=False,
)
jobs = resource_group(
    name="jobs", path="jobs", columns=("id", "kind", "state", "step_name", "error"), help="Jobs",
    filters=False,
)  # fmt: skip
audit = resource_group(
    name="audit",
    path="audit",
    columns=("at", "actor_name", "action", "target_kind", "target_id"),
    help="Audit log",
    filters=False,
)

Password = Annotated[str, typer.Option(prompt=True, hide_input=True, help="(prompted)")]


@tenants.command("create")
@one_line_errors
def create_tenant(
    name: str,
    admin_username: Annotated[str, typer.Option(help="The tenant's first tenant_admin")],
    admin_password: Password,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Create a tenant with its first tenant_admin."""
    body = {"name": name, "admin": {"username": admin_username, "password": admin_password}}
    emit(client(url).call("POST", "/v1/tenants", json=body), output=output, columns=())


@users.command("create")
@one_line_errors
def create_user(
    username: str,
    password: Password,
    role: Annotated[str, typer.Option(help="member or tenant_admin")] = "member",
    tenant: TenantOpt = None,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Add a user to a tenant."""
    body = {"username": username, "password": password, "role": role}
    path = tenant_path("tenants/{tenant}/users", tenant)
    emit(client(url).call("POST", f"/v1/{path}", json=body), output=output, columns=())


@pools.command("create")
@one_line_errors
def create_pool(
    name: str,
    auth_url: Annotated[str, typer.Option(help="The pool's Keystone, e.g. http://host:5000/v3")],
    username: Annotated[str, typer.Option(help="A pool admin user")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    project_name: str = "admin",
    region_name: str | None = None,
    label: Annotated[list[str] | None, typer.Option(help="key=value, repeatable")] = None,
    default_network_cidr: str | None = None,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Register a pool (its credential is verified first, then stored encrypted)."""
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Pool admin password", hide_input=True)
    )
    body = {
        "name": name,
        "region_name": region_name,
        "labels": dict(item.split("=", 1) for item in label or []),
        "default_network_cidr": default_network_cidr,
        "auth": {
            "auth_url": auth_url,
            "username": username,
            "password": password,
            "project_name": project_name,
        },
    }
    emit(client(url).call("POST", "/v1/pools", json=body), output=output, columns=())


@pools.command("check")
@one_line_errors
def check_pool(name: str, output: OutputOpt = Output.table, url: UrlOpt = None) -> None:
    """Ask the pool now and record its health."""
    emit(client(url).call("POST", f"/v1/pools/{name}/check"), output=output, columns=())


@pools.command("reconcile")
@one_line_errors
def reconcile_pool(
    name: str, wait: WaitOpt = False, output: OutputOpt = Output.table, url: UrlOpt = None
) -> None:
    """Compare the pool with mappings and routing records (a job)."""
    api = client(url)
    job = api.call("POST", f"/v1/pools/{name}/reconcile")
    emit(wait_job(api, job) if wait else job, output=output, columns=())


@mappings.command("create")
@one_line_errors
def ensure_mapping(
    pool: str, tenant: TenantOpt = None, output: OutputOpt = Output.table, url: UrlOpt = None
) -> None:
    """Onboard the tenant into a pool now (idempotent)."""
    path = tenant_path("tenants/{tenant}/mappings", tenant)
    emit(client(url).call("PUT", f"/v1/{path}/{pool}"), output=output, columns=())


@jobs.command("wait")
@one_line_errors
def wait(
    job_id: str,
    timeout: Annotated[float, typer.Option(help="Seconds")] = 600,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Wait for a job to finish (exit 5 if it fails or times out)."""
    api = client(url)
    job = api.call("GET", f"/v1/jobs/{job_id}")
    emit(wait_job(api, job, timeout), output=output, columns=())
