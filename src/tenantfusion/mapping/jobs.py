"""Job handlers of the mapping domain."""

from __future__ import annotations

from typing import Any

from tenantfusion.jobs.registry import Busy, JobContext, handler
from tenantfusion.mapping.flows import mapping_deprovision_flow

DEPROVISION = "mapping.deprovision"


@handler(DEPROVISION)
def deprovision(ctx: JobContext) -> dict[str, Any]:
    """Remove a tenant's user and project from a pool, then its mapping row."""
    ctx.report(1, 2, "deprovision")
    if not mapping_deprovision_flow(
        db=ctx.db, mapping_id=ctx.job.payload["mapping_id"], settings=ctx.settings
    ):
        raise Busy()
    return {"mapping_id": ctx.job.payload["mapping_id"], "deleted": True}
