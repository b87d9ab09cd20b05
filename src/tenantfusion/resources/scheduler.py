"""Pick a pool for a new object when the request names none, and say why.

Policy, in order:
1. candidates: enabled, not unreachable, offering the services the kind needs, carrying
   every label of ``pool_selector``, and passing the kind's own ``fits`` check (a server's
   flavor and image exist there and Placement has room for the flavor);
2. prefer pools where the tenant already has an active mapping;
3. then the most free memory (Placement), then the pool name.
Only ``scheduler_candidates`` pools are asked at a time (fit, free memory): the tenant's
own pools first, then a random sample of the others ("power of d choices"), the next
group only if none of a group fits. With 10,000 pools a decision asks 16, not 10,000.
The decision and its reason go back to the caller and into the audit log.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import Any

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


def _missing(pool: Pool | pool_service.Summary, needs: tuple[str, ...]) -> list[str]:
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
    candidates, index, filtered = _eligible(
        pool_service.roster(db=db), needs=needs, selector=selector
    )
    rejected = dict(filtered)
    mapped = {
        m.pool_id
        for m in mapping_service.list_for_tenant(db=db, tenant_id=tenant_id)
        if m.state is MappingState.active
    }
    size = max(1, settings.scheduler_candidates)
    for group in _groups(candidates, index=index, mapped=mapped, size=size):
        pools = _still_eligible(
            pool_service.by_ids(db=db, ids=[p.id for p in group]),
            needs=needs,
            selector=selector,
            rejected=rejected,
        )
        release(db)  # what follows asks the pools: no database connection held meanwhile
        fitting = _fitting(pools, fits=fits, settings=settings, rejected=rejected)
        if fitting:
            break
    else:
        raise PoolUnavailable(
            f"no pool can take it ({_skipped(rejected) or 'no pools registered'})"
        )
    preferred = [p for p in fitting if p.id in mapped]
    because = ["tenant already has a mapping there"] if preferred else ["no mapping yet"]
    pool_set = preferred or fitting
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
        of = f"{len(pool_set)} candidates"
        if len(candidates) > size:
            of = f"{len(pool_set)} candidates (sampled of {len(candidates)})"
        because.append(
            f"most free memory of {of}"
            if free.get(best.id) is not None
            else f"first by name of {of} (capacity unknown)"
        )
    if selector:
        because.append(f"pool_selector {selector}")
    if rejected:
        because.append("skipped " + _skipped(rejected))
    return best, Placement(pool=best.name, reason="; ".join(because))


#: The candidates, them by id, and why the other pools are not candidates.
Eligible = tuple[list[pool_service.Summary], dict[str, pool_service.Summary], dict[str, str]]

#: The last filtering of each roster (kept while the roster is the same list object).
_filtered: dict[tuple[int, tuple[str, ...], str], tuple[Any, Eligible]] = {}


def _eligible(
    roster: list[pool_service.Summary],
    *,
    needs: tuple[str, ...],
    selector: dict[str, str] | None,
) -> Eligible:
    """The pools that may take the object (also by id), and why the others may not;
    remembered per roster (it changes when a pool does), needs and selector."""
    key = (id(roster), needs, json.dumps(selector, sort_keys=True))
    hit = _filtered.get(key)
    if hit is not None and hit[0] is roster:
        return hit[1]
    rejected: dict[str, str] = {}
    candidates: list[pool_service.Summary] = []
    for known in roster:
        if why := _why_not(known, needs=needs, selector=selector):
            rejected[known.name] = why
        else:
            candidates.append(known)
    if len(_filtered) > 64:  # rosters replaced, selectors seen once
        _filtered.clear()
    found: Eligible = (candidates, {p.id: p for p in candidates}, rejected)
    _filtered[key] = (roster, found)
    return found


def _why_not(
    pool: Pool | pool_service.Summary, *, needs: tuple[str, ...], selector: dict[str, str] | None
) -> str | None:
    """Why the pool may not take the object, or None."""
    if not pool.is_enabled:
        return "disabled"
    if pool.status is PoolStatus.unreachable:
        return "unreachable"
    if missing := _missing(pool, needs):
        return f"no {', '.join(missing)}"
    if selector and any((pool.labels or {}).get(k) != v for k, v in selector.items()):
        return "labels do not match pool_selector"
    return None


def _still_eligible(
    pools: list[Pool],
    *,
    needs: tuple[str, ...],
    selector: dict[str, str] | None,
    rejected: dict[str, str],
) -> list[Pool]:
    """The pools whose own rows still pass the filter (the roster may be a second old)."""
    kept = []
    for pool in pools:
        if why := _why_not(pool, needs=needs, selector=selector):
            rejected[pool.name] = why
        else:
            kept.append(pool)
    return kept


def _groups(
    candidates: list[pool_service.Summary],
    *,
    index: dict[str, pool_service.Summary],
    mapped: set[str],
    size: int,
) -> Iterator[list[pool_service.Summary]]:
    """All candidates in one group when they are few; else groups of ``size``: the
    tenant's own pools first, then the others in random order (``index``: the
    candidates by id)."""
    if len(candidates) <= size:
        yield candidates
        return
    mine = sorted((index[i] for i in mapped if i in index), key=lambda p: p.name)
    # the first group samples without walking the candidates (cheap at 10,000 pools); a
    # full walk and shuffle only if no pool of it fits
    drawn = random.sample(candidates, min(len(candidates), size + len(mine)))
    first = (mine + [p for p in drawn if p.id not in mapped])[:size]
    yield first
    asked = {p.id for p in first}
    later = [p for p in candidates if p.id not in asked and p.id not in mapped]
    random.shuffle(later)
    ordered = [p for p in mine if p.id not in asked] + later
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _fitting(
    group: list[Pool], *, fits: Fits | None, settings: Settings, rejected: dict[str, str]
) -> list[Pool]:
    """The pools of ``group`` that can take the object (asked at once); why the others
    cannot goes to ``rejected``."""
    if fits is None:
        return group
    fitting = []
    verdicts = fan_out(
        group, fits, timeout=settings.pool_timeout_seconds, concurrency=settings.pool_concurrency
    )
    for answer in verdicts:
        why = answer.value if answer.outcome == "ok" else f"pool {answer.outcome}"
        if why:
            rejected[answer.pool.name] = why
        else:
            fitting.append(answer.pool)
    return fitting


#: Pools named in a decision's reason; the rest are counted.
SHOWN = 10


def _skipped(rejected: dict[str, str]) -> str:
    names = sorted(rejected.items())
    shown = ", ".join(f"{n} ({r})" for n, r in names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
