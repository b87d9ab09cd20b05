"""What a pool offers every tenant, read-only: flavors, public images, external networks.

Read with the pool's admin credential (public objects only), so a tenant can look before
it has a mapping there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.db import release
from tenantfusion.errors import InvalidInput, NotFound
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.base import PoolDriver
from tenantfusion.pools.drivers.remote import CatalogKind, RemoteObject
from tenantfusion.pools.models import Pool
from tenantfusion.resources.fanout import fan_out
from tenantfusion.resources.schemas import FlavorRead, ImageRead, ResourcePage

M = TypeVar("M", FlavorRead, ImageRead)


def _flavor(pool: Pool, o: RemoteObject) -> FlavorRead:
    return FlavorRead(pool=pool.name, id=o.remote_id, name=o.name, **o.attrs)


def _image(pool: Pool, o: RemoteObject) -> ImageRead:
    return ImageRead(
        pool=pool.name,
        id=o.remote_id,
        name=o.name,
        status=o.status,
        min_disk_gb=o.attrs.get("min_disk_gb") or 0,
        size_bytes=o.attrs.get("size_bytes"),
    )


def _list(
    *,
    db: Session,
    settings: Settings,
    pool: str | None,
    kind: CatalogKind,
    service: str,
    read: Callable[[Pool, RemoteObject], M],
) -> ResourcePage[M]:
    pools = [
        p
        for p in pool_service.list_(db=db)
        if p.is_enabled and service in p.services and (pool is None or p.name == pool)
    ]
    if pool is not None and not pools:
        raise NotFound(f"pool {pool} not found (or it offers no {service} service)")

    def fetch(p: Pool) -> list[RemoteObject]:
        return pool_service.driver_for(pool=p, settings=settings).find_catalog(kind=kind)

    release(db)  # no database connection held while the pools answer
    answers = fan_out(
        pools, fetch, timeout=settings.pool_timeout_seconds, concurrency=settings.pool_concurrency
    )
    items = [read(a.pool, o) for a in answers for o in a.value or []]
    items.sort(key=lambda m: (m.pool, m.name))
    return ResourcePage[M](items=items, pools={a.pool.name: a.outcome for a in answers})


def flavors(
    *, db: Session, actor: Principal, settings: Settings, pool: str | None = None
) -> ResourcePage[FlavorRead]:
    """Flavors of every enabled pool with compute (or one pool), merged."""
    return _list(
        db=db, settings=settings, pool=pool, kind="flavor", service="compute", read=_flavor
    )


def images(
    *, db: Session, actor: Principal, settings: Settings, pool: str | None = None
) -> ResourcePage[ImageRead]:
    """Public images of every enabled pool with an image service (or one pool), merged."""
    return _list(db=db, settings=settings, pool=pool, kind="image", service="image", read=_image)


def lookup(
    *, driver: PoolDriver, pool: Pool, kind: CatalogKind, ref: str, field: str
) -> RemoteObject:
    """The one flavor/image/external network called ``ref`` (name or id) in ``pool``.

    Raises InvalidInput naming the request field and the pool when there is none, or
    several with that name.
    """
    found = driver.find_catalog(kind=kind, ref=ref)
    if not found:
        raise InvalidInput(
            f"{field} {ref!r} does not exist in pool {pool.name}", field=field, pool=pool.name
        )
    if len(found) > 1:
        raise InvalidInput(
            f"{field} {ref!r} is ambiguous in pool {pool.name}: use its id",
            field=field,
            pool=pool.name,
        )
    return found[0]


def external_network(*, driver: PoolDriver, pool: Pool) -> RemoteObject:
    """The pool's external network (``public`` when several). Raises InvalidInput."""
    found = driver.find_catalog(kind="external_network")
    if not found:
        raise InvalidInput(
            f"pool {pool.name} has no external network", field="external_gateway", pool=pool.name
        )
    return next((n for n in found if n.name == "public"), found[0])
