"""What a tenant's lists read from the database, kept for the event loop.

A list needs the tenant's routing records (``records`` scope), its active mappings and
the pools involved (``identity`` scope). ``read`` reads them fresh (a worker thread) and
keeps them (``coherence.reuse``); ``cached`` gives them back with no thread and no query,
until a write of their scope ends them: at once when committed in this process, within
the watcher's poll (``coherence.POLL_SECONDS``) when committed by another replica.

One check keeps a list exact across replicas sooner than that: a pool that reports an
object this process knows no record of (``Known.unknown``) makes the list read the
records again. Objects a pool reports that have no record at all (a shared or external
network, a create not yet reconciled) are remembered as such with the records
(``Known.unrecorded``), so they cost that read once per kept entry, not on every list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tenantfusion.coherence import Scope
from tenantfusion.coherence.reuse import Reuse
from tenantfusion.errors import NotFound
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.models import Pool
from tenantfusion.resources import service as record_service

#: (pool id, kind, remote id) of an object a pool listed
Seen = tuple[str, str, str]


@dataclass(frozen=True)
class Known:
    """A tenant's records as read at one moment, and the objects its pools listed since
    that have no record (mutated on the event loop only)."""

    refs: record_service.Refs
    unrecorded: set[Seen] = field(default_factory=set)

    def unknown(self, seen: Iterable[Seen]) -> set[Seen]:
        """The objects in ``seen`` with no record here, not known to have none."""
        by_remote = self.refs.by_remote
        return {s for s in seen if s not in by_remote and s not in self.unrecorded}


@dataclass(frozen=True)
class View:
    """Everything a list of one tenant reads from the database."""

    known: Known
    #: the tenant's active mappings, by pool id
    mappings: dict[str, Mapping]
    #: the pools its records are in, by id
    pools: dict[str, Pool]
    #: the pool a list named (``?pool=``), when it named one
    named: Pool | None


#: no short time: a record written by another replica ends the entry as soon as the
#: watcher sees it (and nothing is kept in a process that runs no watcher)
_records: Reuse[str, Known] = Reuse(scope=Scope.records, short=0.0)
_mappings: Reuse[str, dict[str, Mapping]] = Reuse()
_pools: Reuse[str, Pool] = Reuse()  # by id
_named: Reuse[str, Pool] = Reuse()  # by name


def named(*, tenant_id: str, pool_name: str) -> tuple[Pool, Mapping] | None:
    """The named pool and the tenant's active mapping there, when both are kept."""
    pool = _named.get(pool_name)
    mappings = _mappings.get(tenant_id)
    if pool is None or mappings is None or pool.id not in mappings:
        return None
    return pool, mappings[pool.id]


def cached(*, tenant_id: str, pool_name: str | None) -> View | None:
    """The tenant's ``View`` from what is kept, or None when any part of it is not."""
    known = _records.get(tenant_id)
    mappings = _mappings.get(tenant_id)
    if known is None or mappings is None:
        return None
    pool = None
    if pool_name is not None:
        pool = _named.get(pool_name)
        if pool is None:
            return None
    pools: dict[str, Pool] = {}
    for pool_id in {r.pool_id for r in known.refs.records}:
        found = _pools.get(pool_id)
        if found is None:
            return None
        pools[pool_id] = found
    return View(known=known, mappings=mappings, pools=pools, named=pool)


def read(
    *,
    db: Session,
    tenant_id: str,
    pool_name: str | None,
    refs: record_service.Refs | None = None,
) -> View:
    """The tenant's ``View`` read now (and kept); ``refs``: the records, when the caller
    read them already (then not kept: they may be older than these reads). Raises
    NotFound for an unknown ``pool_name``."""
    identity, records = _mappings.epoch(), _records.epoch()  # before the reads
    pool = None
    if pool_name is not None:
        pool = pool_service.get(db=db, ref=pool_name)
        if pool is None or pool.name != pool_name:
            raise NotFound(f"pool {pool_name} not found")
        _named.put(pool_name, pool, epoch=identity)
    mappings = {
        m.pool_id: m
        for m in mapping_service.list_for_tenant(db=db, tenant_id=tenant_id)
        if m.state is MappingState.active
    }
    _mappings.put(tenant_id, mappings, epoch=identity)
    if refs is None:
        refs = record_service.refs(db=db, tenant_id=tenant_id)
        known = Known(refs)
        _records.put(tenant_id, known, epoch=records)
    else:
        known = Known(refs)
    in_use = sorted({r.pool_id for r in refs.records})
    pools = {p.id: p for p in pool_service.by_ids(db=db, ids=in_use)}
    for pool_id, found in pools.items():
        _pools.put(pool_id, found, epoch=identity)
    return View(known=known, mappings=mappings, pools=pools, named=pool)


def forget_records(*, tenant_id: str) -> None:
    """Drop the tenant's kept records (a pool reported an object they do not know)."""
    _records.drop(tenant_id)
