"""The ``pool.reconcile`` job: what the periodic reconciler (and ``POST
/v1/pools/{pool}/reconcile``) runs for one pool. Its result is the report; the counts of
each finding also go to the ``tenantfusion_reconcile_findings{pool,kind}`` gauge."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import sessionmaker

from tenantfusion.jobs.registry import JobContext, handler
from tenantfusion.mapping.reconcile import reconcile_pool
from tenantfusion.metrics import RECONCILE_FINDINGS, RECONCILE_RUNS
from tenantfusion.pools import service as pool_service
from tenantfusion.reconciler.resume import requeue_orphans, resume_mappings
from tenantfusion.resources.reconcile import reconcile_records

RECONCILE = "pool.reconcile"
#: Findings that are not trouble (the gauge reports them too, the summary marks them ok).
QUIET = frozenset({"mapping_ok"})


def findings(report: dict[str, Any]) -> dict[str, int]:
    """``{kind: count}`` of a reconcile report: ``mapping_<key>`` for the projects part (the
    top level), ``record_<key>`` for routing records, ``<key>`` for resumes and requeues."""
    counts: dict[str, int] = {}
    for section, prefix in ((report, "mapping_"), (report["resources"], "record_")):
        counts.update({f"{prefix}{k}": len(v) for k, v in section.items() if isinstance(v, list)})
    counts.update({k: len(v) for k, v in report["jobs"].items()})
    return counts


@handler(RECONCILE)
def reconcile(ctx: JobContext) -> dict[str, Any]:
    """Resume interrupted onboarding, requeue orphaned deletes, compare the pool's projects
    with the mapping rows and its objects with the routing records; repair what can be."""
    pool = pool_service.get_or_raise(db=ctx.db, ref=ctx.job.payload["pool_id"])
    ctx.db.commit()  # no transaction stays open across the pool calls below
    sessions = sessionmaker(bind=ctx.db.get_bind(), expire_on_commit=False)
    ctx.report(1, 4, "resume interrupted onboarding")
    jobs = resume_mappings(sessions=sessions, pool=pool, settings=ctx.settings)
    ctx.report(2, 4, "requeue orphaned deletes")
    for key, entries in requeue_orphans(db=ctx.db, pool=pool, settings=ctx.settings).items():
        jobs[key] = entries
    ctx.report(3, 4, "reconcile projects")
    mappings = reconcile_pool(
        db=ctx.db,
        sessions=sessions,
        pool=pool,
        settings=ctx.settings,
        adopt=ctx.job.payload.get("adopt", True),
    )
    ctx.report(4, 4, "reconcile routing records")
    resources = reconcile_records(db=ctx.db, pool=pool, settings=ctx.settings)
    report: dict[str, Any] = {**mappings, "jobs": jobs, "resources": resources}
    counts = findings(report)
    for kind, count in counts.items():
        RECONCILE_FINDINGS.labels(pool=pool.name, kind=kind).set(count)
    report["findings"] = counts
    report["clean"] = not any(n for k, n in counts.items() if k not in QUIET)
    RECONCILE_RUNS.labels(outcome="clean" if report["clean"] else "findings").inc()
    return report
