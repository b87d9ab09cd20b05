"""Ensure and deprovision a tenant in a pool: step lists run under the mapping's lease."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.audit import service as audit_service
from tenantfusion.config import Settings
from tenantfusion.db import utcnow
from tenantfusion.errors import (
    Conflict,
    ExcessPrivilege,
    MappingBusy,
    PoolUnavailable,
    StepFailed,
    TenantFusionError,
)
from tenantfusion.faults import crash_point
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.models import Job
from tenantfusion.mapping import credentials
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping import sessions as session_cache
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.mapping.purge import DELETE_STEPS
from tenantfusion.mapping.steps import (
    ENSURE_STEPS,
    ROTATE_STEPS,
    Step,
    StepContext,
    remote_name,
)
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.principal import SYSTEM, Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.models import Pool

log = structlog.get_logger(__name__)

PROVISIONABLE = (
    MappingState.pending,
    MappingState.provisioning,
    MappingState.failed,
    MappingState.active,
)


def _context(
    *,
    db: Session,
    mapping: Mapping,
    pool: Pool,
    owner: str,
    settings: Settings,
    rotate: bool = False,
) -> StepContext:
    tenant = platform_service.get_tenant_or_raise(db=db, tenant_id=mapping.tenant_id)

    def save() -> None:
        if not mapping_service.renew_lease(
            db=db, mapping=mapping, owner=owner, seconds=settings.lease_seconds
        ):
            db.rollback()
            raise StepFailed("lost the mapping lease to another worker", pool=pool.name)
        db.commit()

    return StepContext(
        mapping=mapping,
        driver=pool_service.driver_for(pool=pool, settings=settings),
        domain=pool.project_domain,
        tenant_name=tenant.name,
        installation_id=platform_service.installation_id(db=db),
        settings=settings,
        db=db,
        save=save,
        rotate=rotate,
    )


def _audit(
    db: Session, actor: Principal, mapping: Mapping, action: str, detail: dict[str, object]
) -> None:
    audit_service.record(
        db=db,
        actor=actor,
        action=action,
        target_kind="mapping",
        target_id=mapping.id,
        tenant_id=mapping.tenant_id,
        detail=detail,
    )


def _mark_failed(
    db: Session, actor: Principal, mapping: Mapping, pool: Pool, action: str, reason: str
) -> None:
    """Undo the failed step's changes, mark the mapping failed with ``reason`` (commits)."""
    db.rollback()
    db.refresh(mapping)
    mapping.state, mapping.reason = MappingState.failed, reason
    _audit(db, actor, mapping, action, {"pool": pool.name, "outcome": "failed", "reason": reason})
    db.commit()


#: Called before each step with (its number from 1, how many, its name): job progress.
OnStep = Callable[[int, int, str], None]


def _run(
    ctx: StepContext,
    steps: list[Step],
    *,
    resume: bool,
    point: str,
    on_step: OnStep | None = None,
) -> None:
    """Run ``steps`` (after ``last_step`` when resuming), saving after each; the crash
    points ``<point>.<step>.pool_done`` (the pool changed, the row not yet) and
    ``<point>.<step>`` (saved) surround each save."""
    names = [s.__name__ for s in steps]
    start = (
        names.index(ctx.mapping.last_step) + 1 if resume and ctx.mapping.last_step in names else 0
    )
    for number, step in enumerate(steps[start:], start=start + 1):
        if on_step is not None:
            on_step(number, len(steps), step.__name__)
        log.info(
            "mapping.step",
            step=step.__name__,
            pool=ctx.driver.pool,
            tenant_id=ctx.mapping.tenant_id,
        )
        step(ctx)
        crash_point(f"{point}.{step.__name__}.pool_done")
        ctx.mapping.last_step = step.__name__
        ctx.save()
        crash_point(f"{point}.{step.__name__}")


def _provision(
    *, db: Session, mapping: Mapping, pool: Pool, owner: str, actor: Principal, settings: Settings
) -> None:
    db.refresh(mapping)
    if mapping.state is MappingState.active:
        return
    resume = mapping.state is MappingState.provisioning
    mapping.state = MappingState.provisioning
    ctx = _context(db=db, mapping=mapping, pool=pool, owner=owner, settings=settings)
    ctx.save()
    crash_point("mapping.ensure.leased")
    try:
        _run(ctx, ENSURE_STEPS, resume=resume, point="mapping.ensure")
    except Exception as e:
        reason = (
            e.detail if isinstance(e, TenantFusionError) else f"internal error: {type(e).__name__}"
        )
        _mark_failed(db, actor, mapping, pool, "mapping.ensure", reason)
        raise
    mapping.state, mapping.reason = MappingState.active, ""
    mapping.verified_at = utcnow()
    mapping.missing_since = None
    _audit(
        db,
        actor,
        mapping,
        "mapping.ensure",
        {"pool": pool.name, "outcome": "active", "adopted": mapping.is_adopted},
    )
    db.commit()


def mapping_ensure_flow(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    tenant_id: str,
    pool_ref: str,
    settings: Settings,
) -> tuple[Mapping, bool]:
    """Make sure the tenant has an active project and member user in the pool.

    Idempotent and race-free: concurrent callers (threads or processes) share one lease,
    one of them runs the steps and the rest wait for its outcome. Returns the mapping and
    whether this call created its row. Raises NotFound, PoolUnavailable, Conflict (being
    deprovisioned), StepFailed or a PoolError from the pool.
    """
    with sessions() as db:
        tenant = platform_service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
        pool = pool_service.get_or_raise(db=db, ref=pool_ref)
        if not pool.is_enabled:
            raise PoolUnavailable(f"pool {pool.name} is disabled", pool=pool.name)
        if not tenant.is_enabled:
            raise Conflict(f"tenant {tenant.name} is disabled")
        existing = mapping_service.get(db=db, tenant_id=tenant.id, pool_id=pool.id)
        if existing is not None and existing.state is MappingState.active:
            if credentials.is_due(existing, settings=settings):
                db.commit()  # no open transaction during the pool calls
                return _upgrade(sessions, actor, existing, pool, settings), False
            return existing, False
        name = remote_name(
            installation_id=platform_service.installation_id(db=db), tenant_id=tenant.id
        )
        mapping, created = mapping_service.get_or_create(
            db=db, tenant_id=tenant.id, pool_id=pool.id, name=name
        )
        owner = mapping_service.new_owner()
        deadline = time.monotonic() + settings.ensure_wait_seconds
        delay, seen_other = 0.02, False
        while True:
            if mapping_service.try_lease(
                db=db,
                mapping_id=mapping.id,
                owner=owner,
                seconds=settings.lease_seconds,
                allow_states=PROVISIONABLE,
            ):
                try:
                    _provision(
                        db=db,
                        mapping=mapping,
                        pool=pool,
                        owner=owner,
                        actor=actor,
                        settings=settings,
                    )
                finally:
                    mapping_service.release_lease(db=db, mapping_id=mapping.id, owner=owner)
                db.refresh(mapping)
                return mapping, created
            db.refresh(mapping)
            if mapping.state is MappingState.active:
                return mapping, created
            if mapping.state is MappingState.deleting:
                raise Conflict(f"the mapping in pool {pool.name} is being deprovisioned")
            if mapping.state is MappingState.failed and seen_other and mapping.lease_owner is None:
                raise StepFailed(mapping.reason or "onboarding failed", pool=pool.name)
            seen_other = seen_other or mapping.lease_owner is not None
            if time.monotonic() > deadline:
                raise PoolUnavailable(
                    f"timed out waiting for onboarding in pool {pool.name}", pool=pool.name
                )
            db.commit()  # end the read snapshot before polling again
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)


def _upgrade(
    sessions: sessionmaker[Session],
    actor: Principal,
    mapping: Mapping,
    pool: Pool,
    settings: Settings,
) -> Mapping:
    """Give an active mapping that still runs on its password (or whose credential nears
    expiry) a new application credential; on a pool error it keeps working as it was."""
    try:
        return mapping_rotate_flow(
            sessions=sessions,
            actor=actor,
            tenant_id=mapping.tenant_id,
            pool_ref=pool.id,
            settings=settings,
            force=False,
        )
    except ExcessPrivilege:
        raise
    except TenantFusionError as e:
        log.warning("mapping.upgrade_failed", pool=pool.name, error=e.type, detail=e.detail)
        return mapping


def mapping_rotate_flow(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    tenant_id: str,
    pool_ref: str,
    settings: Settings,
    force: bool = True,
) -> Mapping:
    """Check the pool user's effective roles, then give the mapping a new application
    credential (created before the old one is deleted). ``force=False`` only when due.

    The mapping stays active throughout. Raises NotFound, Conflict (not active, or busy
    with another worker), ExcessPrivilege (the mapping is then marked failed: its user
    must be fixed before it is used again) or a PoolError (nothing changed)."""
    with sessions() as db:
        pool = pool_service.get_or_raise(db=db, ref=pool_ref)
        mapping = mapping_service.get_or_raise(db=db, tenant_id=tenant_id, pool_id=pool.id)
        if mapping.state is not MappingState.active:
            raise Conflict(f"the mapping in pool {pool.name} is {mapping.state.value}")
        owner = mapping_service.new_owner()
        if not mapping_service.try_lease(
            db=db,
            mapping_id=mapping.id,
            owner=owner,
            seconds=settings.lease_seconds,
            allow_states=(MappingState.active,),
        ):
            raise MappingBusy(f"the mapping in pool {pool.name} is busy; retry shortly")
        try:
            db.refresh(mapping)
            if not force and not credentials.is_due(mapping, settings=settings):
                return mapping
            previous = mapping.app_credential_id
            ctx = _context(
                db=db, mapping=mapping, pool=pool, owner=owner, settings=settings, rotate=True
            )
            try:
                _run(ctx, ROTATE_STEPS, resume=False, point="mapping.rotate")
            except ExcessPrivilege as e:
                _mark_failed(db, actor, mapping, pool, "mapping.rotate", e.detail)
                raise
            _audit(
                db,
                actor,
                mapping,
                "mapping.rotate",
                {
                    "pool": pool.name,
                    "outcome": mapping.auth_kind.value,
                    "credential_id": mapping.app_credential_id,
                    "replaced": previous,
                },
            )
            db.commit()
            return mapping
        finally:
            mapping_service.release_lease(db=db, mapping_id=mapping.id, owner=owner)


def request_deprovision(*, db: Session, actor: Principal, mapping: Mapping, pool: Pool) -> None:
    """Mark a mapping for deletion; refuses while another worker provisions it (flushes)."""
    if (
        mapping.lease_owner is not None
        and mapping.lease_expires_at
        and mapping.lease_expires_at > utcnow()
        and mapping.state is not MappingState.deleting
    ):
        raise Conflict(f"the mapping in pool {pool.name} is being provisioned; retry shortly")
    mapping.state = MappingState.deleting
    mapping.reason = ""
    _audit(db, actor, mapping, "mapping.deprovision", {"pool": pool.name, "outcome": "requested"})
    db.flush()


def mapping_deprovision_flow(
    *, db: Session, mapping_id: str, settings: Settings, on_step: OnStep | None = None
) -> bool:
    """Empty the tenant's project in the pool (``purge.DELETE_STEPS``), forget its routing
    records, delete its user and project, then the mapping row. Resumes after the last
    step a crashed run finished.

    Returns False if another worker holds the lease (the job retries later).
    """
    mapping = db.get(Mapping, mapping_id)
    if mapping is None:
        return True
    pool = db.get(Pool, mapping.pool_id)
    assert pool is not None
    owner = mapping_service.new_owner()
    if not mapping_service.try_lease(
        db=db,
        mapping_id=mapping_id,
        owner=owner,
        seconds=settings.lease_seconds,
        allow_states=(MappingState.deleting,),
    ):
        return False
    db.refresh(mapping)
    try:
        ctx = _context(db=db, mapping=mapping, pool=pool, owner=owner, settings=settings)
        _run(ctx, DELETE_STEPS, resume=True, point="mapping.purge", on_step=on_step)
    except Exception:
        mapping_service.release_lease(db=db, mapping_id=mapping_id, owner=owner)
        raise
    session_cache.forget(mapping_id=mapping.id)
    _audit(db, SYSTEM, mapping, "mapping.deleted", {"pool": pool.name})
    db.delete(mapping)
    db.commit()
    return True


def request_reconcile(*, db: Session, actor: Principal, pool: Pool) -> Job:
    """Queue a reconcile job for a pool (flushes)."""
    audit_service.record(
        db=db,
        actor=actor,
        action="pool.reconcile",
        target_kind="pool",
        target_id=pool.id,
        detail={"pool": pool.name},
    )
    return job_service.enqueue(
        db=db,
        actor=actor,
        kind="pool.reconcile",
        tenant_id=None,
        payload={"pool_id": pool.id},
        total_steps=2,
    )
