"""Job handlers of the mapping domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import sessionmaker

from tenantfusion.jobs.registry import Busy, JobContext, handler
from tenantfusion.mapping.flows import mapping_deprovision_flow
from tenantfusion.mapping.reconcile import reconcile_pool
from tenantfusion.mapping.teardown import DEPROVISION, TENANT_DELETE, tenant_purge_flow
from tenantfusion.pools import service as pool_service
from tenantfusion.resources.reconcile import reconcile_records

RECONCILE = "pool.reconcile"


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


@handler(RECONCILE)
def reconcile(ctx: JobContext) -> dict[str, Any]:
    """Compare a pool with the mapping rows and routing records; repair what can be."""
    pool = pool_service.get_or_raise(db=ctx.db, ref=ctx.job.payload["pool_id"])
    ctx.report(1, 2, "reconcile")
    sessions = sessionmaker(bind=ctx.db.get_bind(), expire_on_commit=False)
    report = reconcile_pool(
        db=ctx.db,
        sessions=sessions,
        pool=pool,
        settings=ctx.settings,
        adopt=ctx.job.payload.get("adopt", True),
    )
    ctx.report(2, 2, "reconcile routing records")
    report["resources"] = reconcile_records(db=ctx.db, pool=pool, settings=ctx.settings)
    return report
