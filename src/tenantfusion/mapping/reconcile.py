"""Reconcile a pool: compare mapping rows with the projects the pool really holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.db import release, utcnow
from tenantfusion.errors import TenantFusionError
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.flows import mapping_ensure_flow
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.mapping.steps import installation_tag
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.principal import SYSTEM
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.models import Pool

TENANT_TAG_PREFIX = "tf-tenant:"


def _drift(mapping: Mapping, project_id: str) -> str:
    """How a mapping row disagrees with the project the pool holds for it ('' if not)."""
    if mapping.project_remote_id and mapping.project_remote_id != project_id:
        return f"row names project {mapping.project_remote_id}, the pool holds {project_id}"
    if mapping.state is MappingState.failed:
        return f"row is failed ({mapping.reason}) but its project {project_id} exists"
    return ""


def reconcile_pool(
    *,
    db: Session,
    sessions: sessionmaker[Session],
    pool: Pool,
    settings: Settings,
    adopt: bool = True,
) -> dict[str, Any]:
    """Mark mappings whose project vanished, adopt tagged projects that lost their row.

    Returns a report: ``ok``, ``missing`` (rows whose project is gone), ``adopted``
    (projects re-attached to their tenant), ``orphans`` (tagged projects of unknown tenants,
    left in place for an operator), ``drift`` (a row whose project is found only by name
    under another id, or a failed row whose project exists), ``failed`` (adoptions).
    """
    driver = pool_service.driver_for(pool=pool, settings=settings)
    install = platform_service.installation_id(db=db)
    release(db)  # no transaction stays open while the pool is asked
    remote = {p.remote_id: p for p in driver.list_projects(tag=installation_tag(install))}
    by_name = {p.name: p for p in remote.values()}
    report: dict[str, Any] = {
        "pool": pool.name,
        "ok": [],
        "missing": [],
        "adopted": [],
        "orphans": [],
        "drift": [],
        "failed": [],
    }
    known_projects: set[str] = set()
    now = utcnow()
    for mapping in mapping_service.list_for_pool(db=db, pool_id=pool.id):
        project = remote.get(mapping.project_remote_id or "") or by_name.get(mapping.project_name)
        if project is not None:
            known_projects.add(project.remote_id)
            drift = _drift(mapping, project.remote_id)
            if drift:
                report["drift"].append({"tenant_id": mapping.tenant_id, "drift": drift})
        if mapping.state is not MappingState.active:
            continue
        if project is None:
            mapping.missing_since = mapping.missing_since or now
            mapping.state, mapping.last_step = MappingState.failed, ""
            mapping.reason = "project missing in the pool (found by reconcile)"
            report["missing"].append(
                {"tenant_id": mapping.tenant_id, "project": mapping.project_name}
            )
        else:
            mapping.verified_at, mapping.missing_since = now, None
            report["ok"].append({"tenant_id": mapping.tenant_id, "project_id": project.remote_id})
    db.commit()
    for project in remote.values():
        if project.remote_id in known_projects:
            continue
        tenant_ids = [
            t.removeprefix(TENANT_TAG_PREFIX)
            for t in project.tags
            if t.startswith(TENANT_TAG_PREFIX)
        ]
        tenant = platform_service.get_tenant(db=db, tenant_id=tenant_ids[0]) if tenant_ids else None
        entry = {
            "project_id": project.remote_id,
            "project": project.name,
            "tenant_id": tenant_ids[0] if tenant_ids else None,
        }
        if tenant is None or not adopt:
            report["orphans"].append(entry)
            continue
        try:
            mapping_ensure_flow(
                sessions=sessions,
                actor=SYSTEM,
                tenant_id=tenant.id,
                pool_ref=pool.id,
                settings=settings,
            )
            report["adopted"].append(entry)
        except TenantFusionError as e:
            report["failed"].append({**entry, "reason": e.detail})
    return report
