"""Platform groups: tenants, users, pools, mappings, jobs, audit."""

from __future__ import annotations

from typing import Annotated

import typer

from tenantfusion.client.base import (
    Output,
    OutputOpt,
    TenantOpt,
    TimeoutOpt,
    UrlOpt,
    WaitOpt,
    client,
    key_values,
    one_line_errors,
    read_secret,
    tenant_path,
    wait_job,
)
from tenantfusion.client.group import Filter, resource_group
from tenantfusion.client.output import emit

tenants = resource_group(
    name="tenants",
    path="tenants",
    columns=("id", "name", "is_enabled", "created_at"),
    help="Tenants (platform admin).",
    max_limit=1000,
    purge_delete=True,
)
users = resource_group(
    name="users",
    path="tenants/{tenant}/users",
    columns=("id", "username", "role", "is_enabled"),
    help="Users of a tenant.",
    max_limit=1000,
)
pools = resource_group(
    name="pools",
    path="pools",
    columns=("name", "status", "services", "features", "labels", "status_reason"),
    help="Resource pools.",
    ref="pool",
)
mappings = resource_group(
    name="mappings",
    path="tenants/{tenant}/mappings",
    columns=("pool", "state", "project_name", "remote_id", "auth_kind", "credential_expires_at"),
    help="A tenant's projects in the pools.",
    ref="pool",
    job_delete=True,
    purge_delete=True,
)
jobs = resource_group(
    name="jobs",
    path="jobs",
    columns=("id", "kind", "state", "step", "total_steps", "step_name", "error"),
    help="Jobs (long work: deprovisioning, deletes, reconciles).",
    filters=(Filter("state", "queued, running, paused, succeeded or failed"),),
    max_limit=500,
    verbs=("list", "show"),
)
audit = resource_group(
    name="audit",
    path="audit",
    columns=("at", "actor_name", "action", "target_kind", "target_id"),
    help="Audit log (admins).",
    filters=(Filter("action", "Only this action, e.g. tenant.create"),),
    max_limit=1000,
    verbs=("list",),
)

Password = Annotated[str, typer.Option(prompt=True, hide_input=True, help="(prompted)")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin")
]


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
    emit(client(url=url).call("POST", "/v1/tenants", json=body), output=output, columns=())


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
    path = tenant_path(path="tenants/{tenant}/users", tenant=tenant)
    emit(client(url=url).call("POST", f"/v1/{path}", json=body), output=output, columns=())


@pools.command("create")
@one_line_errors
def create_pool(
    name: str,
    auth_url: Annotated[str, typer.Option(help="The pool's Keystone, e.g. http://host:5000/v3")],
    username: Annotated[str, typer.Option(help="A pool admin user")],
    password_stdin: PasswordStdin = False,
    project_name: str = "admin",
    region_name: str | None = None,
    label: Annotated[list[str] | None, typer.Option(help="key=value, repeatable")] = None,
    default_network_cidr: str | None = None,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Register a pool (its credential is verified first, then stored encrypted)."""
    body = {
        "name": name,
        "region_name": region_name,
        "labels": key_values(label, option="--label"),
        "default_network_cidr": default_network_cidr,
        "auth": {
            "auth_url": auth_url,
            "username": username,
            "password": read_secret(from_stdin=password_stdin, prompt="Pool admin password"),
            "project_name": project_name,
        },
    }
    emit(client(url=url).call("POST", "/v1/pools", json=body), output=output, columns=())


@pools.command("check")
@one_line_errors
def check_pool(name: str, output: OutputOpt = Output.table, url: UrlOpt = None) -> None:
    """Ask the pool now and record its health."""
    emit(client(url=url).call("POST", f"/v1/pools/{name}/check"), output=output, columns=())


@pools.command("reconcile")
@one_line_errors
def reconcile_pool(
    name: str,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 600.0,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Compare the pool with mappings and routing records (a job)."""
    _post_job(
        path=f"/v1/pools/{name}/reconcile", wait=wait, timeout=timeout, output=output, url=url
    )


@mappings.command("create")
@one_line_errors
def ensure_mapping(
    pool: str, tenant: TenantOpt = None, output: OutputOpt = Output.table, url: UrlOpt = None
) -> None:
    """Onboard the tenant into a pool now (idempotent: ensure)."""
    path = tenant_path(path="tenants/{tenant}/mappings", tenant=tenant)
    emit(client(url=url).call("PUT", f"/v1/{path}/{pool}"), output=output, columns=())


@jobs.command("wait")
@one_line_errors
def wait(
    job_id: str, timeout: TimeoutOpt = 600.0, output: OutputOpt = Output.table, url: UrlOpt = None
) -> None:
    """Wait for a job to finish (exit 5 if it fails or times out)."""
    api = client(url=url)
    job = api.call("GET", f"/v1/jobs/{job_id}")
    emit(wait_job(api=api, job=job, timeout=timeout), output=output, columns=())


@jobs.command("retry")
@one_line_errors
def retry(
    job_id: str,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 600.0,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Queue a failed job again with its attempts reset (--wait: until it finishes)."""
    _post_job(path=f"/v1/jobs/{job_id}/retry", wait=wait, timeout=timeout, output=output, url=url)


def _post_job(*, path: str, wait: bool, timeout: float, output: Output, url: str | None) -> None:
    """POST ``path``, which answers a job; print it, or wait for it with --wait."""
    api = client(url=url)
    job = api.call("POST", path)
    emit(wait_job(api=api, job=job, timeout=timeout) if wait else job, output=output, columns=())


@mappings.command("rotate")
@one_line_errors
def rotate_mapping(
    pool: str, tenant: TenantOpt = None, output: OutputOpt = Output.table, url: UrlOpt = None
) -> None:
    """Give the tenant's identity in a pool a new application credential (the old one is
    deleted once the new one works)."""
    path = tenant_path(path="tenants/{tenant}/mappings", tenant=tenant)
    emit(client(url=url).call("POST", f"/v1/{path}/{pool}/rotate"), output=output, columns=())
