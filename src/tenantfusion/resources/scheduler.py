"""Pick a pool for a new object when the request names none, and say why.

Policy, in order:
1. candidates: enabled, not unreachable, offering the services the kind needs, carrying
   every label of ``pool_selector``, and passing the kind's own ``fits`` check (a server's
   flavor and image exist there and Placement has room for the flavor);
2. prefer pools where the tenant already has an active mapping;
3. then the most free memory (Placement), then the pool name.
The decision and its reason go back to the caller and into the audit log.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.db import release
from tenantfusion.errors import InvalidInput, PoolUnavailable, TenantFusionError
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.models import MappingState
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.remote import Capacity
from tenantfusion.pools.models import Pool, PoolStatus
from tenantfusion.resources.fanout import fan_out
from tenantfusion.resources.schemas import Placement

#: ``fits(pool)`` → None when the pool can take the object, else why not.
Fits = Callable[[Pool], str | None]


def _missing(pool: Pool, needs: tuple[str, ...]) -> list[str]:
    return [s for s in needs if s not in pool.services]


def _check_requested(pool: Pool, needs: tuple[str, ...]) -> None:
    if not pool.is_enabled:
        raise PoolUnavailable(f"pool {pool.name} is disabled", pool=pool.name)
    if missing := _missing(pool, needs):
        raise InvalidInput(
            f"pool {pool.name} offers no {', '.join(missing)} service",
            field="pool",
            pool=pool.name,
        )


def _free_ram(pool: Pool, settings: Settings) -> int | None:
    if "placement" not in pool.services:
        return None
    capacity: Capacity | None = pool_service.driver_for(pool=pool, settings=settings).capacity()
    return capacity.ram_mb if capacity else None


def choose(
    *,
    db: Session,
    settings: Settings,
    tenant_id: str,
    requested: str | None,
    selector: dict[str, str] | None,
    needs: tuple[str, ...],
    fits: Fits | None = None,
) -> tuple[Pool, Placement]:
    """The pool to use and why. Raises NotFound (unknown requested pool), InvalidInput
    (it lacks a needed service, or the kind's check fails there), PoolUnavailable."""
    if requested:
        pool = pool_service.get_or_raise(db=db, ref=requested)
        _check_requested(pool, needs)
        return pool, Placement(pool=pool.name, reason="requested")
    rejected: dict[str, str] = {}
    candidates: list[Pool] = []
    for pool in pool_service.list_(db=db):
        if not pool.is_enabled:
            rejected[pool.name] = "disabled"
        elif pool.status is PoolStatus.unreachable:
            rejected[pool.name] = "unreachable"
        elif missing := _missing(pool, needs):
            rejected[pool.name] = f"no {', '.join(missing)}"
        elif selector and any(pool.labels.get(k) != v for k, v in selector.items()):
            rejected[pool.name] = "labels do not match pool_selector"
        else:
            candidates.append(pool)
    mapped = {
        m.pool_id
        for m in mapping_service.list_for_tenant(db=db, tenant_id=tenant_id)
        if m.state is MappingState.active
    }
    release(db)  # what follows asks the pools: no database connection held meanwhile
    if fits is not None:
        verdicts = fan_out(
            candidates,
            fits,
            timeout=settings.pool_timeout_seconds,
            concurrency=settings.pool_concurrency,
        )
        candidates = []
        for answer in verdicts:
            why = answer.value if answer.outcome == "ok" else f"pool {answer.outcome}"
            if why:
                rejected[answer.pool.name] = why
            else:
                candidates.append(answer.pool)
    if not candidates:
        reasons = "; ".join(f"{name}: {why}" for name, why in sorted(rejected.items()))
        raise PoolUnavailable(f"no pool can take it ({reasons or 'no pools registered'})")
    preferred = [p for p in candidates if p.id in mapped]
    because = ["tenant already has a mapping there"] if preferred else ["no mapping yet"]
    pool_set = preferred or candidates
    free: dict[str, int | None] = {}
    if len(pool_set) > 1:

        def ram(pool: Pool) -> int | None:
            try:
                return _free_ram(pool, settings)
            except TenantFusionError:
                return None

        free = {
            a.pool.id: a.value
            for a in fan_out(
                pool_set,
                ram,
                timeout=settings.pool_timeout_seconds,
                concurrency=settings.pool_concurrency,
            )
        }
    best = min(pool_set, key=lambda p: (-(free.get(p.id) or -1), p.name))
    if len(pool_set) > 1:
        # the tenant learns the ranking, never another pool's (or this one's) capacity
        because.append(
            f"most free memory of {len(pool_set)} candidates"
            if free.get(best.id) is not None
            else f"first by name of {len(pool_set)} candidates (capacity unknown)"
        )
    if selector:
        because.append(f"pool_selector {selector}")
    if rejected:
        because.append("skipped " + ", ".join(f"{n} ({r})" for n, r in sorted(rejected.items())))
    return best, Placement(pool=best.name, reason="; ".join(because))
