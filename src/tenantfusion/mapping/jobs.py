"""Job handlers of the mapping domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import sessionmaker

from tenantfusion.jobs.registry import Busy, JobContext, handler
from tenantfusion.mapping.flows import mapping_deprovision_flow
from tenantfusion.mapping.reconcile import reconcile_pool
from tenantfusion.pools import service as pool_service
from tenantfusion.resources.reconcile import reconcile_records

DEPROVISION = "mapping.deprovision"
RECONCILE = "pool.reconcile"


@handler(DEPROVISION)
def deprovision(ctx: JobContext) -> dict[str, Any]:
    """Remove a tenant's user and project from a pool, then its mapping row."""
    ctx.report(1, 2, "deprovision")
    if not mapping_deprovision_flow(
        db=ctx.db, mapping_id=ctx.job.payload["mapping_id"], settings=ctx.settings
    ):
        raise Busy()
    return {"mapping_id": ctx.job.payload["mapping_id"], "deleted": True}


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
