"""What each tenant page shows, read through the same service functions as the API.

``PAGES`` names every tenant page; ``render`` draws one (a form's page again, with its
input and the error, when an action fails) and ``url_of`` says where it lives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from fastapi import Request, Response
from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.deps import Sessions
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.schemas import JobRead
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.schemas import MappingRead
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.models import Role
from tenantfusion.platform.principal import Principal
from tenantfusion.platform.schemas import UserRead
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.schemas import PoolView
from tenantfusion.quotas import service as quota_service
from tenantfusion.quotas.schemas import QuotaRead, QuotaUsage
from tenantfusion.resources import (
    catalog,
    floating_ips,
    networks,
    routers,
    servers,
    subnets,
    volumes,
)
from tenantfusion.resources import service as record_service
from tenantfusion.resources.engine import tenant_of
from tenantfusion.resources.schemas import ListQuery
from tenantfusion.web import charts
from tenantfusion.web.live import is_moving
from tenantfusion.web.render import Flash, kept, page

RECENT_JOBS = 10
#: Rows on a list page unless ``?limit=`` asks for more (up to the API's 1,000).
PAGE_SIZE = ListQuery.model_fields["limit"].default
USERS_PAGE = 500
ALL = ListQuery(limit=1000)  # choices in forms (networks, subnets, servers)
PageName = Literal[
    "overview",
    "servers",
    "server",
    "networks",
    "subnets",
    "routers",
    "floating-ips",
    "volumes",
    "users",
    "quotas",
]


class Loader(Protocol):
    """What a page shows; ``marker`` and ``limit`` page its main list, ``record_id`` names
    the object of a detail page (pages that have neither ignore them)."""

    def __call__(
        self,
        *,
        db: Session,
        user: Principal,
        settings: Settings,
        marker: str | None,
        limit: int,
        record_id: str | None,
    ) -> dict[str, Any]: ...


def _jobs(db: Session, user: Principal) -> list[JobRead]:
    return [
        JobRead.model_validate(j)
        for j in job_service.list_(db=db, actor=user, limit=RECENT_JOBS, state=None)
    ]


def _pools(db: Session, service: str | None = None) -> list[PoolView]:
    pools = [PoolView.model_validate(p) for p in pool_service.list_(db=db)]
    return [p for p in pools if service is None or (p.is_enabled and service in p.services)]


def _refs(db: Session, user: Principal) -> record_service.Refs:
    """The tenant's records, loaded once for a page that lists several kinds."""
    return record_service.refs(db=db, tenant_id=tenant_of(user))


def _by_name(items: Iterable[Any]) -> dict[str, list[str]]:
    """Catalogue names (flavors, images) → the pools offering them."""
    found: defaultdict[str, list[str]] = defaultdict(list)
    for item in items:
        found[item.name].append(item.pool)
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class QuotaScope:
    """One scope of a tenant's quotas (platform-wide, or one pool) as the console shows it."""

    title: str
    key: str
    usage: dict[str, QuotaUsage]
    bars: list[charts.Bar]


def quota_scopes(found: QuotaRead) -> list[QuotaScope]:
    """Platform-wide first, then each pool where the tenant has a limit or objects."""
    scopes = [("All pools (platform-wide)", "platform", found.resources)]
    scopes += [(f"Pool {name}", f"pool-{name}", usage) for name, usage in found.pools.items()]
    return [
        QuotaScope(title, key, usage, charts.quota_bars(usage, scope=key))
        for title, key, usage in scopes
    ]


def _quotas(*, db: Session, user: Principal, **_: Any) -> dict[str, Any]:
    tenant_id = tenant_of(user)
    return {
        "scopes": quota_scopes(quota_service.read(db=db, tenant_id=tenant_id)),
        "labels": charts.QUOTA_LABELS,
    }


def _overview(*, db: Session, user: Principal, **_: Any) -> dict[str, Any]:
    pools = _pools(db)
    names = {p.id: p.name for p in pools}
    mappings = [
        MappingRead.of(m, pool_name=names[m.pool_id])
        for m in mapping_service.list_for_tenant(db=db, tenant_id=tenant_of(user))
    ]
    jobs = _jobs(db, user)
    mapped = {m.pool for m in mappings}
    return {
        "pools": pools,
        "mappings": mappings,
        "unmapped": [p for p in pools if p.is_enabled and p.name not in mapped],
        "jobs": jobs,
        "live": is_moving(jobs=jobs, mappings=mappings),
        **_quotas(db=db, user=user),
    }


def _servers(
    *, db: Session, user: Principal, settings: Settings, marker: str | None, limit: int, **_: Any
) -> dict[str, Any]:
    refs = _refs(db, user)
    query = ListQuery(marker=marker, limit=limit)
    listed = servers.list_(db=db, actor=user, settings=settings, query=query, refs=refs)
    jobs = _jobs(db, user)
    return {
        "servers": listed,
        "networks": networks.list_(
            db=db, actor=user, settings=settings, query=ALL, refs=refs
        ).items,
        "flavors": _by_name(catalog.flavors(db=db, actor=user, settings=settings).items),
        "images": _by_name(catalog.images(db=db, actor=user, settings=settings).items),
        "pools": _pools(db, "compute"),
        "jobs": jobs,
        "marker": marker,
        "live": is_moving(jobs=jobs, resources=listed.items),
    }


def _server(
    *, db: Session, user: Principal, settings: Settings, record_id: str | None, **_: Any
) -> dict[str, Any]:
    server = servers.show(db=db, actor=user, settings=settings, record_id=record_id or "")
    refs, in_pool = _refs(db, user), ListQuery(pool=server.pool, limit=1000)
    fips = floating_ips.list_(db=db, actor=user, settings=settings, query=in_pool, refs=refs)
    images = catalog.images(db=db, actor=user, settings=settings, pool=server.pool).items
    # only pools holding volume records are asked, so a server without volumes costs nothing
    vols = volumes.list_(db=db, actor=user, settings=settings, query=in_pool, refs=refs)
    return {
        "server": server,
        "image_name": next((i.name for i in images if i.id == server.image), None),
        "attached": [f for f in fips.items if f.server == server.id],
        "free_ips": [f for f in fips.items if not f.server],
        "volumes": [v for v in vols.items if v.server == server.id],
        "live": is_moving(resources=[server]),
    }


def _networks(
    *, db: Session, user: Principal, settings: Settings, marker: str | None, limit: int, **_: Any
) -> dict[str, Any]:
    listed = networks.list_(
        db=db, actor=user, settings=settings, query=ListQuery(marker=marker, limit=limit)
    )
    jobs = _jobs(db, user)
    return {
        "networks": listed,
        "pools": _pools(db, "network"),
        "jobs": jobs,
        "marker": marker,
        "live": is_moving(jobs=jobs, resources=listed.items),
    }


def _subnets(
    *, db: Session, user: Principal, settings: Settings, marker: str | None, limit: int, **_: Any
) -> dict[str, Any]:
    refs = _refs(db, user)
    query = ListQuery(marker=marker, limit=limit)
    listed = subnets.list_(db=db, actor=user, settings=settings, query=query, refs=refs)
    nets = networks.list_(db=db, actor=user, settings=settings, query=ALL, refs=refs).items
    return {
        "subnets": listed,
        "networks": nets,
        "network_names": {n.id: n.name for n in nets},
        "marker": marker,
        "live": is_moving(resources=listed.items),
    }


def _routers(
    *, db: Session, user: Principal, settings: Settings, marker: str | None, limit: int, **_: Any
) -> dict[str, Any]:
    refs = _refs(db, user)
    query = ListQuery(marker=marker, limit=limit)
    listed = routers.list_(db=db, actor=user, settings=settings, query=query, refs=refs)
    subs = subnets.list_(db=db, actor=user, settings=settings, query=ALL, refs=refs).items
    return {
        "routers": listed,
        "subnets": subs,
        "subnet_of": {s.id: s for s in subs},
        "pools": _pools(db, "network"),
        "marker": marker,
        "live": is_moving(resources=listed.items),
    }


def _attachable(
    *,
    service: Any,
    key: str,
    needs: str,
    db: Session,
    user: Principal,
    settings: Settings,
    marker: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of objects that attach to servers (floating IPs, volumes), with the tenant's
    servers to choose from and the pools offering ``needs``."""
    refs, query = _refs(db, user), ListQuery(marker=marker, limit=limit)
    listed = service.list_(db=db, actor=user, settings=settings, query=query, refs=refs)
    found = servers.list_(db=db, actor=user, settings=settings, query=ALL, refs=refs).items
    return {
        key: listed,
        "servers": found,
        "server_names": {s.id: s.name for s in found},
        "pools": _pools(db, needs),
        "marker": marker,
        "live": is_moving(resources=listed.items),
    }


def _floating_ips(
    *, db: Session, user: Principal, settings: Settings, marker: str | None, limit: int, **_: Any
) -> dict[str, Any]:
    return _attachable(
        service=floating_ips,
        key="floating_ips",
        needs="network",
        db=db,
        user=user,
        settings=settings,
        marker=marker,
        limit=limit,
    )


def _volumes(
    *, db: Session, user: Principal, settings: Settings, marker: str | None, limit: int, **_: Any
) -> dict[str, Any]:
    return _attachable(
        service=volumes,
        key="volumes",
        needs="block-storage",
        db=db,
        user=user,
        settings=settings,
        marker=marker,
        limit=limit,
    )


def _users(*, db: Session, user: Principal, **_: Any) -> dict[str, Any]:
    user.require_admin()
    tenant = platform_service.get_tenant_or_raise(db=db, tenant_id=tenant_of(user))
    found = platform_service.list_users(db=db, tenant=tenant, limit=USERS_PAGE, marker=None)
    return {
        "users": [UserRead.model_validate(u) for u in found],
        "roles": [r.value for r in Role if r is not Role.platform_admin],
    }


PAGES: dict[PageName, tuple[str, Loader]] = {
    "overview": ("tenant/overview.html", _overview),
    "servers": ("tenant/servers.html", _servers),
    "server": ("tenant/server.html", _server),
    "networks": ("tenant/networks.html", _networks),
    "subnets": ("tenant/subnets.html", _subnets),
    "routers": ("tenant/routers.html", _routers),
    "floating-ips": ("tenant/floating_ips.html", _floating_ips),
    "volumes": ("tenant/volumes.html", _volumes),
    "users": ("tenant/users.html", _users),
    "quotas": ("tenant/quotas.html", _quotas),
}


def page_name(value: str, default: PageName) -> PageName:
    """A page named by a form (``back``), or ``default`` for anything else."""
    for name in PAGES:
        if name == value:
            return name
    return default


def url_of(name: PageName, record_id: str | None = None) -> str:
    """Where a page lives (``server`` is a server's own page)."""
    return f"/console/servers/{record_id}" if name == "server" else f"/console/{name}"


def render(
    request: Request,
    name: PageName,
    *,
    user: Principal,
    sessions: Sessions,
    settings: Settings,
    form: dict[str, str] | None = None,
    flash: Flash | None = None,
    status: int = 200,
    marker: str | None = None,
    limit: int = PAGE_SIZE,
    record_id: str | None = None,
) -> Response:
    """Draw a tenant page (with a flash and a form's kept input, after a failed action)."""
    template, load = PAGES[name]
    with sessions() as db:
        context = load(
            db=db, user=user, settings=settings, marker=marker, limit=limit, record_id=record_id
        )
    return page(
        request, template, user=user, flash=flash, status=status, form=kept(form), **context
    )


def retry(
    request: Request,
    name: PageName,
    *,
    user: Principal,
    sessions: Sessions,
    settings: Settings,
    form: dict[str, str] | None = None,
    record_id: str | None = None,
) -> Callable[[Flash, int], Response]:
    """``submit``'s retry: the page again with the error, the form's input kept."""

    def draw(flash: Flash, status: int) -> Response:
        return render(
            request,
            name,
            user=user,
            sessions=sessions,
            settings=settings,
            form=form,
            flash=flash,
            status=status,
            record_id=record_id,
        )

    return draw
