"""Leaving: deprovisioning a mapping, deleting a tenant or a pool.

Each refuses with ``409 objects-left`` naming what is left (mappings, routing records per
kind with a few ids), unless asked to purge: then a job empties every pool concerned
(``purge.DELETE_STEPS``) before deleting. A foreign key is never what answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.errors import Conflict, ObjectsLeft
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.models import Job
from tenantfusion.jobs.registry import Busy
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.flows import OnStep, mapping_deprovision_flow, request_deprovision
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.mapping.purge import DELETE_STEPS
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.models import Tenant
from tenantfusion.platform.principal import SYSTEM, Principal
from tenantfusion.platform.schemas import TenantUpdate
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.models import Pool
from tenantfusion.resources import service as record_service

DEPROVISION = "mapping.deprovision"
TENANT_DELETE = "tenant.delete"
#: How many ids of each kind a 409 names.
SHOWN_IDS = 5


@dataclass(frozen=True)
class Leftovers:
    """What still lives where a delete was asked."""

    mappings: list[str] = field(default_factory=list)  # pool names, or tenant names
    objects: dict[str, list[str]] = field(default_factory=dict)  # kind → record ids

    def __bool__(self) -> bool:
        return bool(self.mappings or self.objects)

    def describe(self) -> str:
        parts = []
        if self.mappings:
            parts.append(f"{len(self.mappings)} mapping(s) ({', '.join(self.mappings)})")
        if self.objects:
            kinds = ", ".join(
                f"{len(ids)} {kind} ({', '.join(ids[:SHOWN_IDS])}"
                f"{', …' if len(ids) > SHOWN_IDS else ''})"
                for kind, ids in sorted(self.objects.items())
            )
            parts.append(f"{sum(map(len, self.objects.values()))} object(s): {kinds}")
        return " and ".join(parts)

    def refuse(self, *, what: str, hint: str) -> None:
        """Raise ObjectsLeft naming what is left, if anything is."""
        if not self:
            return
        raise ObjectsLeft(
            f"{what} still holds {self.describe()}; {hint}",
            mappings=self.mappings,
            objects={
                kind: {"count": len(ids), "ids": ids[:SHOWN_IDS]}
                for kind, ids in sorted(self.objects.items())
            },
        )


PURGE_HINT = "delete them first, or purge (?purge=true)"


def deprovision_job(
    *, db: Session, actor: Principal, mapping: Mapping, pool: Pool, purge: bool = False
) -> Job:
    """Mark a mapping for deletion and queue the job that empties the tenant's project and
    deletes it (flushes). Without ``purge``, raises ObjectsLeft while the tenant has
    routing records (in any state) in that pool."""
    if not purge:
        left = record_service.left(db=db, tenant_id=mapping.tenant_id, pool_id=pool.id)
        Leftovers(objects=left).refuse(what=f"pool {pool.name}", hint=PURGE_HINT)
    request_deprovision(db=db, actor=actor, mapping=mapping, pool=pool)
    return job_service.enqueue(
        db=db,
        actor=actor,
        kind=DEPROVISION,
        tenant_id=mapping.tenant_id,
        payload={"mapping_id": mapping.id, "purge": purge},
        total_steps=len(DELETE_STEPS),
        pool_id=pool.id,
    )


def _pool_names(db: Session) -> dict[str, str]:
    return {p.id: p.name for p in pool_service.list_(db=db)}


def tenant_delete_flow(
    *, db: Session, actor: Principal, tenant: Tenant, purge: bool = False
) -> Job | None:
    """Delete a tenant.

    Without ``purge``: at once, only a tenant with no mapping and no routing record left
    (raises ObjectsLeft naming them). With ``purge``: disables the tenant (revoking its
    tokens, so nothing new is onboarded), marks each mapping for deletion and returns the
    job that empties every pool, then deletes the tenant. Flushes.
    """
    mappings = mapping_service.list_for_tenant(db=db, tenant_id=tenant.id)
    names = _pool_names(db)
    if not purge:
        Leftovers(
            mappings=[names[m.pool_id] for m in mappings],
            objects=record_service.left(db=db, tenant_id=tenant.id),
        ).refuse(what=f"tenant {tenant.name}", hint=PURGE_HINT)
        platform_service.delete_tenant(db=db, actor=actor, tenant=tenant)
        return None
    if tenant.is_enabled:
        platform_service.update_tenant(
            db=db, actor=actor, tenant=tenant, data=TenantUpdate(is_enabled=False)
        )
    for mapping in mappings:
        pool = pool_service.get_or_raise(db=db, ref=mapping.pool_id)
        request_deprovision(db=db, actor=actor, mapping=mapping, pool=pool)
    return job_service.enqueue(
        db=db,
        actor=actor,
        kind=TENANT_DELETE,
        tenant_id=tenant.id,
        payload={"tenant_id": tenant.id},
        total_steps=len(mappings) * len(DELETE_STEPS) + 1,
    )


def _progress(on_step: OnStep, *, offset: int, total: int, pool: str) -> OnStep:
    """One pool's step numbers as steps of the whole tenant's job."""
    return lambda number, _, name: on_step(offset + number, total, f"{pool}: {name}")


def tenant_purge_flow(
    *, db: Session, tenant_id: str, settings: Settings, on_step: OnStep
) -> dict[str, Any]:
    """The job of a purging tenant delete: delete each mapping with everything in it,
    then the tenant. Raises Busy while another worker holds one of its mappings."""
    tenant = platform_service.get_tenant(db=db, tenant_id=tenant_id)
    if tenant is None:  # an earlier attempt finished just before a crash
        return {"tenant_id": tenant_id, "deleted": True, "pools": []}
    mappings = mapping_service.list_for_tenant(db=db, tenant_id=tenant_id)
    names = _pool_names(db)
    per_pool = len(DELETE_STEPS)
    total = len(mappings) * per_pool + 1
    for index, mapping in enumerate(mappings):
        if mapping.state is not MappingState.deleting:  # onboarded just before the disable
            try:
                pool = pool_service.get_or_raise(db=db, ref=mapping.pool_id)
                request_deprovision(db=db, actor=SYSTEM, mapping=mapping, pool=pool)
                db.commit()
            except Conflict as e:
                db.rollback()
                raise Busy() from e
        step = _progress(on_step, offset=index * per_pool, total=total, pool=names[mapping.pool_id])
        if not mapping_deprovision_flow(
            db=db, mapping_id=mapping.id, settings=settings, on_step=step
        ):
            raise Busy()
    on_step(total, total, "delete tenant")
    # records in a pool without a mapping (nothing can reach their objects any more)
    unreachable = record_service.drop_all(db=db, tenant_id=tenant_id)
    platform_service.delete_tenant(db=db, actor=SYSTEM, tenant=tenant)
    db.commit()
    return {
        "tenant_id": tenant_id,
        "deleted": True,
        "pools": [names[m.pool_id] for m in mappings],
        "unreachable_records": unreachable,
    }


def pool_delete_flow(*, db: Session, actor: Principal, pool: Pool) -> None:
    """Forget a pool no tenant uses; raises ObjectsLeft naming the tenants mapped there
    (flushes)."""
    held = [
        f"tenant {platform_service.get_tenant_or_raise(db=db, tenant_id=m.tenant_id).name} "
        f"({m.state.value})"
        for m in mapping_service.list_for_pool(db=db, pool_id=pool.id)
    ]
    Leftovers(mappings=held).refuse(
        what=f"pool {pool.name}",
        hint="deprovision them first (DELETE /v1/tenants/{id}/mappings/{pool})",
    )
    try:
        pool_service.delete(db=db, actor=actor, pool=pool)
    except IntegrityError as e:  # records of tenants whose mapping is gone
        db.rollback()
        count = record_service.count_in_pool(db=db, pool_id=pool.id)
        raise ObjectsLeft(
            f"pool {pool.name} still holds {count} routing record(s) of tenants without a "
            "mapping there; reconcile the pool first",
            mappings=[],
            objects={},
        ) from e
