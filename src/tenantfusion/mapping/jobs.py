"""Job handlers of the mapping domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import sessionmaker

from tenantfusion.errors import MappingBusy
from tenantfusion.jobs.registry import Busy, JobContext, handler
from tenantfusion.mapping.flows import mapping_deprovision_flow, mapping_rotate_flow
from tenantfusion.mapping.reconcile import reconcile_pool
from tenantfusion.mapping.sessions import ROTATE_JOB
from tenantfusion.platform.principal import SYSTEM
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


@handler(ROTATE_JOB)
def rotate(ctx: JobContext) -> dict[str, Any]:
    """Rotate a mapping's application credential if it is (still) due."""
    ctx.report(1, 1, "rotate application credential")
    sessions = sessionmaker(bind=ctx.db.get_bind(), expire_on_commit=False)
    try:
        mapping = mapping_rotate_flow(
            sessions=sessions,
            actor=SYSTEM,
            tenant_id=ctx.job.payload["tenant_id"],
            pool_ref=ctx.job.payload["pool_id"],
            settings=ctx.settings,
            force=bool(ctx.job.payload.get("force", False)),
        )
    except MappingBusy as e:
        raise Busy() from e
    return {"mapping_id": mapping.id, "credential_id": mapping.app_credential_id}
