"""Job handlers of the mapping domain."""

from __future__ import annotations

from typing import Any

from tenantfusion.jobs.registry import Busy, JobContext, handler
from tenantfusion.mapping.flows import mapping_deprovision_flow
from tenantfusion.mapping.teardown import DEPROVISION, TENANT_DELETE, tenant_purge_flow


@handler(DEPROVISION)
def deprovision(ctx: JobContext) -> dict[str, Any]:
    """Empty a tenant's project in a pool, delete its user and project, then the mapping."""
    if not mapping_deprovision_flow(
        db=ctx.db,
        mapping_id=ctx.job.payload["mapping_id"],
        settings=ctx.settings,
        on_step=ctx.report,
    ):
        raise Busy()
    return {"mapping_id": ctx.job.payload["mapping_id"], "deleted": True}


@handler(TENANT_DELETE)
def delete_tenant(ctx: JobContext) -> dict[str, Any]:
    """Purge every pool of a tenant, then delete the tenant."""
    return tenant_purge_flow(
        db=ctx.db, tenant_id=ctx.job.payload["tenant_id"], settings=ctx.settings, on_step=ctx.report
    )
