"""The pool registry: register (after proving the credential), read, update, health."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenantfusion.audit import service as audit_service
from tenantfusion.config import Settings
from tenantfusion.crypto import decrypt_json, encrypt_json
from tenantfusion.db import release, utcnow
from tenantfusion.errors import Conflict, InvalidInput, NotFound, PoolError, PoolUnreachable
from tenantfusion.metrics import POOL_STATUS
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import breaker
from tenantfusion.pools.drivers import DRIVERS, PoolDriver
from tenantfusion.pools.drivers.base import Capabilities, PoolAuth
from tenantfusion.pools.drivers.remote import Capacity
from tenantfusion.pools.models import Pool, PoolStatus
from tenantfusion.pools.schemas import PoolAuthIn, PoolCreate, PoolUpdate

_drivers: dict[tuple[str, str], PoolDriver] = {}
#: Value of the ``tenantfusion_pool_status`` gauge for each status.
STATUS_VALUE = {PoolStatus.ok: 0, PoolStatus.degraded: 1, PoolStatus.unreachable: 2}


def _auth(data: PoolAuthIn, region_name: str | None) -> PoolAuth:
    return PoolAuth(
        auth_url=str(data.auth_url).rstrip("/"),
        username=data.username,
        password=data.password.get_secret_value(),
        project_name=data.project_name,
        user_domain_name=data.user_domain_name,
        project_domain_name=data.project_domain_name,
        region_name=region_name,
    )


def _new_driver(*, kind: str, auth: PoolAuth, name: str, settings: Settings) -> PoolDriver:
    try:
        cls = DRIVERS[kind]
    except KeyError as e:
        raise InvalidInput(
            f"unknown driver {kind!r}; known: {sorted(DRIVERS)}", field="driver"
        ) from e
    return cls(auth, pool=name, timeout=settings.pool_timeout_seconds)


def driver_for(*, pool: Pool, settings: Settings) -> PoolDriver:
    """The admin driver of a registered pool (one per process and credential: tokens reused)."""
    key = (pool.id, hashlib.sha256(pool.credential.encode()).hexdigest())
    driver = _drivers.get(key)
    if driver is None:
        auth = PoolAuth(**decrypt_json(pool.credential, settings=settings))
        driver = _new_driver(kind=pool.driver, auth=auth, name=pool.name, settings=settings)
        _drivers[key] = driver
    return driver


_BY_REF = select(Pool).where(or_(Pool.name == bindparam("ref"), Pool.id == bindparam("ref")))


def get(*, db: Session, ref: str) -> Pool | None:
    """The pool named ``ref`` or with id ``ref``, or None."""
    return db.scalar(_BY_REF, {"ref": ref})


def get_or_raise(*, db: Session, ref: str) -> Pool:
    """The pool; raises NotFound."""
    pool = get(db=db, ref=ref)
    if pool is None:
        raise NotFound(f"pool {ref} not found")
    return pool


def list_(*, db: Session) -> list[Pool]:
    """Every registered pool, by name."""
    return list(db.scalars(select(Pool).order_by(Pool.name)))


@dataclass(frozen=True)
class Summary:
    """What the scheduler filters pools on, without their credential."""

    id: str
    name: str
    is_enabled: bool
    status: PoolStatus
    services: tuple[str, ...]
    labels: dict[str, Any]


#: How long the roster is used without asking whether the pool table changed. The
#: scheduler re-checks the pools it picks on their own rows, so a pool disabled, gone or
#: unreachable meanwhile is never chosen; a pool added or re-enabled on another replica is
#: seen this late (in this process at once: see ``forget_roster``).
ROSTER_CHECK_SECONDS = 1.0

_roster: tuple[tuple[str, datetime | None, int], list[Summary]] | None = None
_roster_checked = 0.0
_roster_lock = threading.Lock()


def forget_roster(*_: object) -> None:
    """Drop the cached roster: a pool was written in this process (registered, changed,
    checked or deleted), so the next decision reads the table again instead of missing a
    pool registered a moment ago."""
    global _roster
    _roster = None


for _change in ("after_insert", "after_update", "after_delete"):
    event.listen(Pool, _change, forget_roster)


def roster(*, db: Session) -> list[Summary]:
    """Every pool's scheduling facts, by name. Cached in the process until the pool table
    changes: one small query (newest ``updated_at``, row count) checks, at most every
    ``ROSTER_CHECK_SECONDS``, so 10,000 pools are neither read and parsed again nor even
    counted for every decision (the health sweep touches every pool once a period, which
    refreshes it)."""
    global _roster, _roster_checked
    url = str(db.get_bind().engine.url)
    cached = _roster
    if (
        cached is not None
        and cached[0][0] == url
        and time.monotonic() - _roster_checked < ROSTER_CHECK_SECONDS
    ):
        return cached[1]
    checked = time.monotonic()
    newest, count = db.execute(select(func.max(Pool.updated_at), func.count(Pool.id))).one()
    stamp = (url, newest, int(count))
    if cached is not None and cached[0] == stamp:
        _roster_checked = checked
        return cached[1]
    with _roster_lock:
        rows = db.execute(
            select(
                Pool.id, Pool.name, Pool.is_enabled, Pool.status, Pool.services, Pool.labels
            ).order_by(Pool.name)
        )
        summaries = [
            Summary(
                id=r.id,
                name=r.name,
                is_enabled=r.is_enabled,
                status=r.status,
                services=tuple(r.services or ()),
                labels=dict(r.labels or {}),
            )
            for r in rows
        ]
        _roster, _roster_checked = (stamp, summaries), checked
    return summaries


def by_ids(*, db: Session, ids: list[str]) -> list[Pool]:
    """The pools with these ids (one query), in the order of ``ids``."""
    found = {p.id: p for p in db.scalars(select(Pool).where(Pool.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def page(*, db: Session, limit: int, marker: str | None) -> list[Pool]:
    """Pools ordered by name, after ``marker`` (a pool name)."""
    stmt = select(Pool).order_by(Pool.name).limit(limit)
    if marker:
        stmt = stmt.where(Pool.name > marker)
    return list(db.scalars(stmt))


def _apply_capabilities(pool: Pool, caps: Capabilities) -> None:
    pool.services = list(caps.services)
    pool.features = list(caps.features)
    pool.status = PoolStatus.degraded if caps.degraded else PoolStatus.ok
    pool.status_reason = f"not answering: {', '.join(caps.degraded)}" if caps.degraded else ""
    pool.checked_at = utcnow()


def register(*, db: Session, actor: Principal, data: PoolCreate, settings: Settings) -> Pool:
    """Verify the pool answers and the credential is admin, then store it encrypted.

    Raises Conflict (name taken), InvalidInput (driver), PoolUnreachable, PoolAuthFailed,
    PoolNotAdmin. Nothing is stored unless every check passed.
    """
    if get(db=db, ref=data.name) is not None:
        raise Conflict(f"pool name {data.name!r} is taken")
    auth = _auth(data.auth, data.region_name)
    breaker.reset(data.name)  # a new pool (or a retry with a fixed URL) starts closed
    release(db)  # the pool is asked with no database connection held
    caps = _new_driver(kind=data.driver, auth=auth, name=data.name, settings=settings).check()
    pool = Pool(
        name=data.name,
        driver=data.driver,
        auth_url=auth.auth_url,
        region_name=data.region_name,
        project_domain=data.project_domain or settings.pool_project_domain,
        credential=encrypt_json(auth.to_dict(), settings=settings),
        labels=data.labels,
        default_network_cidr=str(data.default_network_cidr) if data.default_network_cidr else None,
        status=PoolStatus.ok,
    )
    _apply_capabilities(pool, caps)
    db.add(pool)
    try:
        db.flush()
    except IntegrityError as e:
        raise Conflict(f"pool name {data.name!r} is taken") from e
    audit_service.record(
        db=db,
        actor=actor,
        action="pool.register",
        target_kind="pool",
        target_id=pool.id,
        detail={"name": pool.name, "auth_url": pool.auth_url},
    )
    return pool


def update(
    *, db: Session, actor: Principal, pool: Pool, data: PoolUpdate, settings: Settings
) -> Pool:
    """Change labels, region, enabled flag or credential (a new credential is verified first)."""
    changes = data.model_dump(mode="json", exclude_unset=True, exclude={"auth"})
    if data.auth is not None:
        region = data.region_name if "region_name" in changes else pool.region_name
        auth = _auth(data.auth, region)
        breaker.reset(pool.name)
        release(db)
        caps = _new_driver(kind=pool.driver, auth=auth, name=pool.name, settings=settings).check()
        pool.credential = encrypt_json(auth.to_dict(), settings=settings)
        pool.auth_url = auth.auth_url
        _apply_capabilities(pool, caps)
    for key, value in changes.items():
        setattr(pool, key, value)
    db.flush()
    audit_service.record(
        db=db,
        actor=actor,
        action="pool.update",
        target_kind="pool",
        target_id=pool.id,
        detail={**changes, **({"auth": "***"} if data.auth else {})},
    )
    return pool


def delete(*, db: Session, actor: Principal, pool: Pool) -> None:
    """Forget a pool (``mapping.teardown`` checks that no tenant uses it first).

    Raises IntegrityError from the flush while a mapping or record still points at it."""
    audit_service.record(
        db=db,
        actor=actor,
        action="pool.delete",
        target_kind="pool",
        target_id=pool.id,
        detail={"name": pool.name},
    )
    db.delete(pool)
    db.flush()


def record_health(*, db: Session, pool: Pool, outcome: Capabilities | PoolError) -> bool:
    """Record what a check of the pool found: its capabilities, or the error it gave
    (unreachable, else degraded). Returns whether the pool came back from unreachable.
    Does not flush (the health sweep writes every pool's outcome in one flush)."""
    was_unreachable = pool.status is PoolStatus.unreachable
    if isinstance(outcome, Capabilities):
        _apply_capabilities(pool, outcome)
    else:
        unreachable = isinstance(outcome, PoolUnreachable)
        pool.status = PoolStatus.unreachable if unreachable else PoolStatus.degraded
        pool.status_reason, pool.checked_at = outcome.detail[:500], utcnow()
    POOL_STATUS.labels(pool=pool.name).set(STATUS_VALUE[pool.status])
    return was_unreachable and pool.status is not PoolStatus.unreachable


def check(*, pool: Pool, settings: Settings) -> Capabilities | PoolError:
    """Ask the pool now (no database needed: call it outside any transaction)."""
    try:
        return driver_for(pool=pool, settings=settings).check()
    except PoolError as e:
        return e


def refresh_health(*, db: Session, pool: Pool, settings: Settings) -> Pool:
    """Re-check a pool and record ok / degraded / unreachable with the reason.

    An explicit check always asks the pool, whatever its circuit breaker says.
    """
    breaker.reset(pool.name)
    release(db)  # the pool is asked with no database connection held
    record_health(db=db, pool=pool, outcome=check(pool=pool, settings=settings))
    db.flush()
    return pool


def capacity(*, pool: Pool, settings: Settings) -> Capacity | None:
    """The pool's compute capacity from Placement (free and total), None without Placement.

    Call it with no database transaction open. Raises PoolUnreachable or PoolError.
    """
    if "placement" not in pool.services:
        return None
    return driver_for(pool=pool, settings=settings).capacity()


def export_status(*, db: Session) -> None:
    """Set the pool status gauge from the registry (each replica's /metrics shows it)."""
    for name, status in db.execute(select(Pool.name, Pool.status)):
        POOL_STATUS.labels(pool=name).set(STATUS_VALUE[status])
