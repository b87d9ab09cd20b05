"""Platform quotas: limits per tenant and resource (platform-wide and per pool), usage
summed from the routing records, reservations taken race-free with the record.

A create calls ``reserve`` in the transaction that writes its ``creating`` record: it
locks the tenant's ``tenant_quota`` row with an UPDATE (a row lock on PostgreSQL, held to
commit; on SQLite the write lock, which serialises writers), then sums the tenant's
records and refuses what would pass a limit. The record carries its ``charges``: while
``creating`` they are reserved, once ``active`` used, and when the record is dropped (a
refused create, a finished delete) they are given back, with no counter to keep right.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, bindparam, cast, delete, exists, null, or_, select, union_all
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from tenantfusion.audit import service as audit_service
from tenantfusion.config import Settings
from tenantfusion.db import release
from tenantfusion.errors import QuotaExceeded
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.models import MappingState
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.remote import PurgeKind
from tenantfusion.pools.models import Pool
from tenantfusion.quotas.models import QuotaLimit, TenantQuota
from tenantfusion.quotas.schemas import QuotaDrift, QuotaLimits, QuotaRead, QuotaUsage
from tenantfusion.resources.fanout import fan_out
from tenantfusion.resources.models import RecordState, RoutingRecord

#: Every resource a quota limits, in display order.
RESOURCES: tuple[str, ...] = tuple(QuotaLimits.model_fields)
#: The count each kind of object adds to (subnets are not limited).
COUNTED: dict[str, str] = {
    "server": "servers",
    "volume": "volumes",
    "network": "networks",
    "router": "routers",
    "floating_ip": "floating_ips",
}
#: Scope key of a platform-wide limit (per-pool limits are keyed by the pool id).
PLATFORM: None = None

Key = tuple[str | None, str]  # (pool id or PLATFORM, resource)


def charges_for(*, kind: str, extra: Mapping[str, int] | None = None) -> dict[str, int]:
    """What one object of ``kind`` counts against the quotas (``extra``: a server's
    ``vcpus`` and ``ram_mb``, a volume's ``volume_gb``)."""
    counted = {COUNTED[kind]: 1} if kind in COUNTED else {}
    return {**counted, **{k: v for k, v in (extra or {}).items() if k in RESOURCES}}


@dataclass
class Tally:
    """A tenant's usage and reservations, per (pool, resource) and platform-wide."""

    used: Counter[Key] = field(default_factory=Counter)
    reserved: Counter[Key] = field(default_factory=Counter)

    def total(self, key: Key) -> int:
        return self.used[key] + self.reserved[key]

    def pools(self) -> set[str]:
        return {p for p, _ in (*self.used, *self.reserved) if p is not None}


#: Built once (every create runs them under its tenant's quota lock).
_CHARGES = select(
    RoutingRecord.pool_id, RoutingRecord.kind, RoutingRecord.state, RoutingRecord.charges
).where(RoutingRecord.tenant_id == bindparam("tenant"))
_LIMITS = select(QuotaLimit.pool_id, QuotaLimit.resource, QuotaLimit.hard_limit).where(
    QuotaLimit.tenant_id == bindparam("tenant")
)
_LOCK = (
    sql_update(TenantQuota)
    .where(TenantQuota.tenant_id == bindparam("tenant"))
    .values(version=TenantQuota.version + 1)
    .execution_options(synchronize_session=False)
)
_RELEVANT = aliased(QuotaLimit)
#: A create's check in one round trip: the tenant's limits (``state`` NULL), then its
#: records, read only when a limit on one of the ``resources`` applies in ``pool`` or
#: platform-wide (as before: no such limit, no record read).
_LIMITS_AND_CHARGES = union_all(
    select(
        QuotaLimit.pool_id,
        QuotaLimit.resource,
        QuotaLimit.hard_limit,
        cast(null(), RoutingRecord.state.type).label("state"),
        cast(null(), JSON).label("charges"),
    ).where(QuotaLimit.tenant_id == bindparam("tenant")),
    select(
        RoutingRecord.pool_id,
        RoutingRecord.kind,
        null(),
        RoutingRecord.state,
        RoutingRecord.charges,
    ).where(
        RoutingRecord.tenant_id == bindparam("tenant"),
        exists().where(
            _RELEVANT.tenant_id == bindparam("tenant"),
            _RELEVANT.resource.in_(bindparam("resources", expanding=True)),
            or_(_RELEVANT.pool_id.is_(None), _RELEVANT.pool_id == bindparam("pool")),
        ),
    ),
)


def _add(found: Tally, pool_id: str, kind: str, state: RecordState, charges: Any) -> None:
    """Count one record: ``creating`` ones are reservations, every other state is usage."""
    into = found.reserved if state is RecordState.creating else found.used
    for resource, amount in (charges or charges_for(kind=kind)).items():
        into[(pool_id, resource)] += int(amount)
        into[(PLATFORM, resource)] += int(amount)


def tally(*, db: Session, tenant_id: str) -> Tally:
    """Sum what the tenant's records charge (one query): ``creating`` ones are
    reservations, every other state is usage (an object being deleted still exists)."""
    found = Tally()
    for pool_id, kind, state, charges in db.execute(_CHARGES, {"tenant": tenant_id}):
        _add(found, pool_id, kind, state, charges)
    return found


def limits(*, db: Session, tenant_id: str) -> dict[Key, int]:
    """The tenant's limits by (pool id or PLATFORM, resource)."""
    rows = db.execute(_LIMITS, {"tenant": tenant_id})
    return {(pool_id, resource): limit for pool_id, resource, limit in rows}


def _lock(*, db: Session, tenant_id: str) -> bool:
    """Lock the tenant's quota row until the transaction ends; False when it has none."""
    result = db.execute(_LOCK, {"tenant": tenant_id})
    return bool(result.rowcount)  # type: ignore[attr-defined]


def reserve(*, db: Session, tenant_id: str, pool_id: str, charges: Mapping[str, int]) -> None:
    """Check ``charges`` against the tenant's limits in ``pool_id`` and platform-wide,
    holding the tenant's quota lock; the caller writes its record in the same transaction
    and commits (which releases the lock). Raises QuotaExceeded naming the resource, the
    limit, the usage (reservations included) and the pool of a pool limit."""
    if not charges or not _lock(db=db, tenant_id=tenant_id):
        return
    bounds: dict[Key, int] = {}
    counts = Tally()
    params = {"tenant": tenant_id, "pool": pool_id, "resources": list(charges)}
    for scope, name, amount, state, recorded in db.execute(_LIMITS_AND_CHARGES, params):
        if state is None:
            bounds[(scope, name)] = amount
        else:
            _add(counts, scope, name, state, recorded)
    checked = [(s, r) for r in charges for s in (PLATFORM, pool_id) if (s, r) in bounds]
    for scope, resource in checked:
        limit, usage = bounds[(scope, resource)], counts.total((scope, resource))
        if usage + charges[resource] <= limit:
            continue
        where = {}
        if scope is not None:
            pool = pool_service.get(db=db, ref=scope)
            where = {"pool": pool.name if pool else scope}
        in_pool = f" in pool {where['pool']}" if where else ""
        raise QuotaExceeded(
            f"{resource}: {usage} used of {limit}{in_pool}, {charges[resource]} more asked",
            resource=resource,
            limit=limit,
            usage=usage,
            requested=charges[resource],
            **where,
        )


def _ensure_row(*, db: Session, tenant_id: str) -> None:
    """The tenant's quota row, made on first use (a concurrent maker wins harmlessly)."""
    if db.get(TenantQuota, tenant_id) is not None:
        return
    try:
        with db.begin_nested():
            db.add(TenantQuota(tenant_id=tenant_id))
    except IntegrityError:
        pass


def set_limits(*, db: Session, tenant_id: str, pool: Pool | None, data: QuotaLimits) -> None:
    """Replace the tenant's limits of one scope (platform-wide, or ``pool``) under the
    quota lock. A limit below the current usage is allowed: it refuses new creates only.
    Flushes."""
    _ensure_row(db=db, tenant_id=tenant_id)
    _lock(db=db, tenant_id=tenant_id)
    pool_id = pool.id if pool else None
    scope = QuotaLimit.pool_id.is_(None) if pool_id is None else QuotaLimit.pool_id == pool_id
    db.execute(delete(QuotaLimit).where(QuotaLimit.tenant_id == tenant_id, scope))
    for resource, value in data.model_dump().items():
        if value is not None:
            db.add(
                QuotaLimit(
                    tenant_id=tenant_id, pool_id=pool_id, resource=resource, hard_limit=value
                )
            )
    db.flush()


def _usage(bounds: Mapping[Key, int], counts: Tally, scope: str | None) -> dict[str, QuotaUsage]:
    return {
        r: QuotaUsage(
            limit=bounds.get((scope, r)),
            usage=counts.used[(scope, r)],
            reserved=counts.reserved[(scope, r)],
        )
        for r in RESOURCES
    }


def read(*, db: Session, tenant_id: str) -> QuotaRead:
    """Limit, usage and reservations of every resource, platform-wide and per pool (pools
    where the tenant has a limit or objects)."""
    bounds, counts = limits(db=db, tenant_id=tenant_id), tally(db=db, tenant_id=tenant_id)
    names = {p.id: p.name for p in pool_service.list_(db=db)}
    pool_ids = {s for s, _ in bounds if s is not None} | counts.pools()
    return QuotaRead(
        tenant_id=tenant_id,
        resources=_usage(bounds, counts, PLATFORM),
        pools={
            names[p]: _usage(bounds, counts, p) for p in sorted(pool_ids, key=names.__getitem__)
        },
    )


def pool_limits(bounds: Mapping[Key, int], pool_id: str) -> dict[str, int | None]:
    """What the tenant may hold in one pool: the lower of its pool and platform limits."""
    found: dict[str, int | None] = {}
    for resource in RESOURCES:
        values = [v for s in (PLATFORM, pool_id) if (v := bounds.get((s, resource))) is not None]
        found[resource] = min(values) if values else None
    return found


@dataclass(frozen=True)
class _Project:
    pool: Pool
    project_id: str


def _projects(*, db: Session, tenant_id: str) -> list[_Project]:
    """The tenant's projects in the pools where its mapping is active."""
    pools = {p.id: p for p in pool_service.list_(db=db)}
    return [
        _Project(pool=pools[m.pool_id], project_id=m.project_remote_id)
        for m in mapping_service.list_for_tenant(db=db, tenant_id=tenant_id)
        if m.state is MappingState.active and m.project_remote_id and m.pool_id in pools
    ]


def push(*, sessions: sessionmaker[Session], tenant_id: str, settings: Settings) -> dict[str, str]:
    """Set the tenant's project quotas in every pool where it is onboarded to its limits
    there (as the pool admin, no transaction open, all pools at once). Returns pool →
    ``ok``, ``skipped`` (the pool offers none of these quotas) or why it failed."""
    with sessions() as db:
        bounds = limits(db=db, tenant_id=tenant_id)
        projects = _projects(db=db, tenant_id=tenant_id)

    def call(pool: Pool) -> bool:
        project = next(p for p in projects if p.pool.id == pool.id)
        driver = pool_service.driver_for(pool=pool, settings=settings)
        pushed = driver.set_project_quotas(
            project_id=project.project_id, limits=pool_limits(bounds, pool.id)
        )
        return bool(pushed)

    answers = fan_out(
        [p.pool for p in projects],
        call,
        timeout=settings.operation_deadline_seconds,
        concurrency=settings.pool_concurrency,
    )
    return {
        a.pool.name: ("ok" if a.value else "skipped") if a.outcome == "ok" else a.detail
        for a in answers
    }


#: The kinds whose count is compared with the pool's (as the pool admin, by project).
DRIFT_KINDS: tuple[PurgeKind, ...] = ("server", "volume", "network", "router", "floating_ip")


def drift(*, db: Session, tenant_id: str, settings: Settings) -> tuple[list[QuotaDrift], list[str]]:
    """Compare the counts the records give with what each of the tenant's projects holds
    (ends ``db``'s transaction before asking the pools). Returns the drift and the pools
    that could not be asked."""
    counts = tally(db=db, tenant_id=tenant_id)
    projects = _projects(db=db, tenant_id=tenant_id)
    release(db)

    def call(pool: Pool) -> dict[str, int]:
        project = next(p for p in projects if p.pool.id == pool.id)
        driver = pool_service.driver_for(pool=pool, settings=settings)
        return {
            COUNTED[kind]: len(
                driver.list_project_objects(project_id=project.project_id, kind=kind)
            )
            for kind in DRIFT_KINDS
        }

    answers = fan_out(
        [p.pool for p in projects],
        call,
        timeout=settings.operation_deadline_seconds,
        concurrency=settings.pool_concurrency,
    )
    drift = [
        QuotaDrift(
            pool=a.pool.name,
            resource=resource,
            records=counts.total((a.pool.id, resource)),
            pool_count=held,
        )
        for a in answers
        if a.value is not None
        for resource, held in a.value.items()
        if counts.total((a.pool.id, resource)) != held
    ]
    return drift, [a.pool.name for a in answers if a.value is None]


def show(*, db: Session, tenant_id: str, settings: Settings, reconcile: bool = False) -> QuotaRead:
    """The tenant's quotas (``read``); with ``reconcile``, also the drift against its pools
    (the transaction ends before they are asked). Raises NotFound for an unknown tenant."""
    platform_service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
    found = read(db=db, tenant_id=tenant_id)
    if reconcile:
        found.drift, found.unreachable = drift(db=db, tenant_id=tenant_id, settings=settings)
    return found


def update(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    tenant_id: str,
    pool_ref: str | None,
    data: QuotaLimits,
    settings: Settings,
) -> QuotaRead:
    """Replace the tenant's platform-wide limits (or those in pool ``pool_ref``), audit
    it, commit, then push the limits down to its projects in the pools. Raises NotFound
    for an unknown tenant or pool."""
    with sessions() as db:
        platform_service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
        pool = pool_service.get_or_raise(db=db, ref=pool_ref) if pool_ref else None
        set_limits(db=db, tenant_id=tenant_id, pool=pool, data=data)
        audit_service.record(
            db=db,
            actor=actor,
            action="quota.set",
            target_kind="tenant",
            target_id=tenant_id,
            tenant_id=tenant_id,
            detail={"pool": pool.name if pool else None, **data.model_dump(exclude_none=True)},
        )
        db.commit()
    pushed = push(sessions=sessions, tenant_id=tenant_id, settings=settings)
    with sessions() as db:
        found = read(db=db, tenant_id=tenant_id)
    found.pushed = pushed
    return found
