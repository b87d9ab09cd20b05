"""Leaving a pool: the steps that empty a tenant's project, then forget it.

Deleting a mapping always runs the whole list: floating IPs (disassociated, released),
servers (waited until Nova has really removed them), router interfaces and gateways,
routers, leftover ports, subnets, networks, security groups (the default one too:
Neutron keeps it after the project is gone), the routing records, then the pool user and
the project. Everything is found by the project, as the pool's admin, so objects whose
create was interrupted go too. A project that is already empty costs one list per kind.

Every step is idempotent (a second run finds nothing left to delete); the flow saves
``last_step`` after each, so a deletion that crashed resumes at the first unfinished one.
"""

from __future__ import annotations

import time

from tenantfusion.errors import PoolError
from tenantfusion.mapping.steps import DEPROVISION_STEPS, Step, StepContext, owned
from tenantfusion.pools.drivers.remote import PurgeKind
from tenantfusion.resources import service as record_service

#: How long Nova gets to really delete the project's servers in one attempt of the job.
SERVER_WAIT_SECONDS = 90.0
#: After this part of the wait, servers still there are reset and force-deleted.
FORCE_AFTER = 1 / 3
POLL_SECONDS = 1.0


def _project_id(ctx: StepContext) -> str | None:
    """The tenant's project in the pool, by id or (if never recorded) by its tagged name."""
    m = ctx.mapping
    if m.project_remote_id:
        return m.project_remote_id
    found = ctx.driver.find_project(name=m.project_name, domain=ctx.domain)
    return found.remote_id if found is not None and owned(found, ctx) else None


def _purge(ctx: StepContext, kind: PurgeKind) -> None:
    project_id = _project_id(ctx)
    if project_id is None:
        return
    for obj in ctx.driver.list_project_objects(project_id=project_id, kind=kind):
        ctx.driver.purge_object(kind=kind, remote_id=obj.remote_id)


def release_floating_ips(ctx: StepContext) -> None:
    """Disassociate and release the project's floating IPs."""
    _purge(ctx, "floating_ip")


def delete_servers(ctx: StepContext) -> None:
    """Delete the project's servers and wait until Nova no longer has them.

    Servers in ERROR are reset first; any still there after a third of the wait are reset
    and deleted again (force-deleted when soft-deleted). Raises PoolError (the job tries
    again later) when some are still there at the deadline.
    """
    project_id = _project_id(ctx)
    if project_id is None:
        return
    _purge(ctx, "server")
    started, forced = time.monotonic(), False
    while left := ctx.driver.list_project_objects(project_id=project_id, kind="server"):
        waited = time.monotonic() - started
        if waited > SERVER_WAIT_SECONDS:
            ids = ", ".join(s.remote_id for s in left[:5])
            raise PoolError(
                f"pool {ctx.driver.pool}: {len(left)} server(s) still there after "
                f"{waited:.0f} s of deleting ({ids})",
                pool=ctx.driver.pool,
            )
        if not forced and waited > SERVER_WAIT_SECONDS * FORCE_AFTER:
            forced = True
            for server in left:
                ctx.driver.purge_object(kind="server", remote_id=server.remote_id, force=True)
        ctx.save()  # keeps the mapping's lease while Nova works
        time.sleep(POLL_SECONDS)


def delete_volumes(ctx: StepContext) -> None:
    """Delete the project's volumes (after its servers, whose deletion detached them)."""
    _purge(ctx, "volume")


def detach_routers(ctx: StepContext) -> None:
    """Remove every router interface and external gateway of the project's routers."""
    project_id = _project_id(ctx)
    if project_id is None:
        return
    for router in ctx.driver.list_project_objects(project_id=project_id, kind="router"):
        ctx.driver.detach_router(remote_id=router.remote_id)


def delete_routers(ctx: StepContext) -> None:
    """Delete the project's routers."""
    _purge(ctx, "router")


def delete_ports(ctx: StepContext) -> None:
    """Delete ports left on the project or its networks (they would keep a subnet busy)."""
    _purge(ctx, "port")


def delete_subnets(ctx: StepContext) -> None:
    """Delete the project's subnets."""
    _purge(ctx, "subnet")


def delete_networks(ctx: StepContext) -> None:
    """Delete the project's networks."""
    _purge(ctx, "network")


def delete_security_groups(ctx: StepContext) -> None:
    """Delete the project's security groups, its default one included."""
    _purge(ctx, "security_group")


def drop_records(ctx: StepContext) -> None:
    """Forget the tenant's routing records in the pool: their objects are gone."""
    record_service.drop_all(db=ctx.db, tenant_id=ctx.mapping.tenant_id, pool_id=ctx.mapping.pool_id)


PURGE_STEPS: list[Step] = [
    release_floating_ips,
    delete_servers,
    delete_volumes,
    detach_routers,
    delete_routers,
    delete_ports,
    delete_subnets,
    delete_networks,
    delete_security_groups,
]

#: What deleting a mapping runs, in order (crash points ``mapping.purge.<step>``).
DELETE_STEPS: list[Step] = [*PURGE_STEPS, drop_records, *DEPROVISION_STEPS]
