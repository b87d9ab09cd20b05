"""Job handlers of the resources domain."""

from __future__ import annotations

import time
from typing import Any

from tenantfusion.errors import NotFound
from tenantfusion.jobs.registry import Busy, JobContext, handler
from tenantfusion.resources import service as record_service
from tenantfusion.resources.engine import AWAIT_DELETED, routed
from tenantfusion.resources.models import RecordState

POLL_SECONDS = 1.0
WAIT_PER_ATTEMPT_SECONDS = 30.0


@handler(AWAIT_DELETED)
def await_deleted(ctx: JobContext) -> dict[str, Any]:
    """Wait until the pool no longer has the object, then drop its routing record."""
    payload = ctx.job.payload
    try:
        target = routed(
            db=ctx.db,
            tenant_id=ctx.job.tenant_id or "",
            kind=payload["kind"],
            record_id=payload["record_id"],
            settings=ctx.settings,
            state=RecordState.deleting,
        )
    except NotFound:  # an earlier attempt finished just before a crash
        return {"record_id": payload["record_id"], "deleted": True}
    where = target.where
    ctx.report(1, 1, f"waiting for pool {where.pool.name} to delete the {payload['kind']}")
    deadline = time.monotonic() + WAIT_PER_ATTEMPT_SECONDS
    while where.driver.get_object(
        session=where.session, kind=payload["kind"], remote_id=target.record.remote_id or ""
    ):
        if time.monotonic() > deadline:
            raise Busy()  # still there: look again later without using up an attempt
        time.sleep(POLL_SECONDS)
    record_service.discard(db=ctx.db, record=target.record)
    return {"record_id": payload["record_id"], "pool": where.pool.name, "deleted": True}
