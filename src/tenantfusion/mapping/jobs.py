"""Job handlers of the mapping domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import sessionmaker

from tenantfusion.errors import MappingBusy
from tenantfusion.jobs.registry import Busy, JobContext, handler
from tenantfusion.mapping.flows import mapping_deprovision_flow, mapping_rotate_flow
from tenantfusion.mapping.sessions import ROTATE_JOB
from tenantfusion.mapping.teardown import DEPROVISION, TENANT_DELETE, tenant_purge_flow
from tenantfusion.platform.principal import SYSTEM


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
