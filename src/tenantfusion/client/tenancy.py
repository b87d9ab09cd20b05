"""Platform groups: tenants, users, pools, mappings, jobs, audit."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tenantfusion.client.base import (
    TenantOpt,
    TimeoutOpt,
    UrlOpt,
    WaitOpt,
    client,
    key_values,
    one_line_errors,
    prints,
    read_secret,
    tenant_path,
    wait_job,
)
from tenantfusion.client.group import Filter, resource_group

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
    max_limit=1000,
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
@prints()
def create_tenant(
    name: str,
    admin_username: Annotated[str, typer.Option(help="The tenant's first tenant_admin")],
    admin_password: Password,
    url: UrlOpt = None,
) -> Any:
    """Create a tenant with its first tenant_admin."""
    body = {"name": name, "admin": {"username": admin_username, "password": admin_password}}
    return client(url=url).call("POST", "/v1/tenants", json=body)


@users.command("create")
@one_line_errors
@prints()
def create_user(
    username: str,
    password: Password,
    role: Annotated[str, typer.Option(help="member or tenant_admin")] = "member",
    tenant: TenantOpt = None,
    url: UrlOpt = None,
) -> Any:
    """Add a user to a tenant."""
    body = {"username": username, "password": password, "role": role}
    path = tenant_path(path="tenants/{tenant}/users", tenant=tenant)
    return client(url=url).call("POST", f"/v1/{path}", json=body)


@pools.command("create")
@one_line_errors
@prints()
def create_pool(
    name: str,
    auth_url: Annotated[str, typer.Option(help="The pool's Keystone, e.g. http://host:5000/v3")],
    username: Annotated[str, typer.Option(help="A pool admin user")],
    password_stdin: PasswordStdin = False,
    project_name: str = "admin",
    region_name: str | None = None,
    label: Annotated[list[str] | None, typer.Option(help="key=value, repeatable")] = None,
    default_network_cidr: str | None = None,
    url: UrlOpt = None,
) -> Any:
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
    return client(url=url).call("POST", "/v1/pools", json=body)


@pools.command("check")
@one_line_errors
@prints()
def check_pool(name: str, url: UrlOpt = None) -> Any:
    """Ask the pool now and record its health."""
    return client(url=url).call("POST", f"/v1/pools/{name}/check")


@pools.command("reconcile")
@one_line_errors
@prints()
def reconcile_pool(
    name: str,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 600.0,
    url: UrlOpt = None,
) -> Any:
    """Compare the pool with mappings and routing records (a job)."""
    return _post_job(path=f"/v1/pools/{name}/reconcile", wait=wait, timeout=timeout, url=url)


@mappings.command("create")
@one_line_errors
@prints()
def ensure_mapping(pool: str, tenant: TenantOpt = None, url: UrlOpt = None) -> Any:
    """Onboard the tenant into a pool now (idempotent: ensure)."""
    path = tenant_path(path="tenants/{tenant}/mappings", tenant=tenant)
    return client(url=url).call("PUT", f"/v1/{path}/{pool}")


@jobs.command("wait")
@one_line_errors
@prints()
def wait(job_id: str, timeout: TimeoutOpt = 600.0, url: UrlOpt = None) -> Any:
    """Wait for a job to finish (exit 5 if it fails or times out)."""
    api = client(url=url)
    job = api.call("GET", f"/v1/jobs/{job_id}")
    return wait_job(api=api, job=job, timeout=timeout)


@jobs.command("retry")
@one_line_errors
@prints()
def retry(
    job_id: str,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 600.0,
    url: UrlOpt = None,
) -> Any:
    """Queue a failed job again with its attempts reset (--wait: until it finishes)."""
    return _post_job(path=f"/v1/jobs/{job_id}/retry", wait=wait, timeout=timeout, url=url)


def _post_job(*, path: str, wait: bool, timeout: float, url: str | None) -> Any:
    """POST ``path``, which answers a job: the job, or with ``wait`` the finished job."""
    api = client(url=url)
    job = api.call("POST", path)
    return wait_job(api=api, job=job, timeout=timeout) if wait else job


@mappings.command("rotate")
@one_line_errors
@prints()
def rotate_mapping(pool: str, tenant: TenantOpt = None, url: UrlOpt = None) -> Any:
    """Give the tenant's identity in a pool a new application credential (the old one is
    deleted once the new one works)."""
    path = tenant_path(path="tenants/{tenant}/mappings", tenant=tenant)
    return client(url=url).call("POST", f"/v1/{path}/{pool}/rotate")
