"""Tenant pages: overview (pools, mappings, jobs), servers, networks, each with its forms.

Pages read and write through the same resource service functions as the API routes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, Protocol

from fastapi import Form, Query, Request, Response
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.deps import AppSettings, Sessions
from tenantfusion.errors import NotFound
from tenantfusion.jobs import service as job_service
from tenantfusion.jobs.models import Job
from tenantfusion.jobs.schemas import JobRead
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.schemas import MappingRead
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.schemas import PoolView
from tenantfusion.resources import catalog, floating_ips, networks, routers, servers
from tenantfusion.resources.engine import tenant_of
from tenantfusion.resources.schemas import ListQuery, NetworkCreate, ResourceRead, ServerCreate
from tenantfusion.web.auth import ConsoleUser
from tenantfusion.web.live import is_moving
from tenantfusion.web.render import Flash, kept, page, parse, submit
from tenantfusion.web.routing import console_router

router = console_router()
RECENT_JOBS = 10
PageName = Literal["overview", "servers", "networks"]


class Deletable(Protocol):
    """A resource service module with a delete button (``servers``, ``networks``)."""

    def show(
        self, *, db: Session, actor: Principal, settings: Settings, record_id: str
    ) -> ResourceRead: ...

    def delete(
        self,
        *,
        sessions: sessionmaker[Session],
        actor: Principal,
        settings: Settings,
        record_id: str,
    ) -> Job | None: ...


#: Kinds with a delete button: URL segment → (service module, what it is called, its page).
DELETABLE: dict[str, tuple[Deletable, str, PageName]] = {
    "servers": (servers, "server", "servers"),
    "networks": (networks, "network", "networks"),
}
Marker = Annotated[str | None, Query(max_length=512)]


class Loader(Protocol):
    """What a page shows; ``marker`` pages its main list (pages without one ignore it)."""

    def __call__(
        self, *, db: Session, user: Principal, settings: Settings, marker: str | None
    ) -> dict[str, Any]: ...


def _jobs(db: Session, user: Principal) -> list[JobRead]:
    return [
        JobRead.model_validate(j)
        for j in job_service.list_(db=db, actor=user, limit=RECENT_JOBS, state=None)
    ]


def _pools(db: Session, service: str | None = None) -> list[PoolView]:
    pools = [PoolView.model_validate(p) for p in pool_service.list_(db=db)]
    return [p for p in pools if service is None or (p.is_enabled and service in p.services)]


def _by_name(items: Iterable[Any]) -> dict[str, list[str]]:
    """Catalogue names (flavors, images) → the pools offering them."""
    found: defaultdict[str, list[str]] = defaultdict(list)
    for item in items:
        found[item.name].append(item.pool)
    return dict(sorted(found.items()))


def _overview(
    *, db: Session, user: Principal, settings: Settings, marker: str | None
) -> dict[str, Any]:
    pools = _pools(db)
    names = {p.id: p.name for p in pools}
    mappings = [
        MappingRead.of(m, pool_name=names[m.pool_id])
        for m in mapping_service.list_for_tenant(db=db, tenant_id=tenant_of(user))
    ]
    jobs = _jobs(db, user)
    return {
        "pools": pools,
        "mappings": mappings,
        "jobs": jobs,
        "live": is_moving(jobs=jobs, mappings=mappings),
    }


def _servers(
    *, db: Session, user: Principal, settings: Settings, marker: str | None
) -> dict[str, Any]:
    listed = servers.list_(db=db, actor=user, settings=settings, query=ListQuery(marker=marker))
    jobs = _jobs(db, user)
    return {
        "servers": listed,
        "networks": networks.list_(
            db=db, actor=user, settings=settings, query=ListQuery(limit=1000)
        ).items,
        "flavors": _by_name(catalog.flavors(db=db, actor=user, settings=settings).items),
        "images": _by_name(catalog.images(db=db, actor=user, settings=settings).items),
        "pools": _pools(db, "compute"),
        "jobs": jobs,
        "marker": marker,
        "live": is_moving(jobs=jobs, resources=listed.items),
    }


def _networks(
    *, db: Session, user: Principal, settings: Settings, marker: str | None
) -> dict[str, Any]:
    query = ListQuery()
    listed = networks.list_(db=db, actor=user, settings=settings, query=ListQuery(marker=marker))
    jobs = _jobs(db, user)
    return {
        "networks": listed,
        "routers": routers.list_(db=db, actor=user, settings=settings, query=query),
        "floating_ips": floating_ips.list_(db=db, actor=user, settings=settings, query=query),
        "pools": _pools(db, "network"),
        "jobs": jobs,
        "marker": marker,
        "live": is_moving(jobs=jobs, resources=listed.items),
    }


PAGES: dict[PageName, tuple[str, Loader]] = {
    "overview": ("tenant/overview.html", _overview),
    "servers": ("tenant/servers.html", _servers),
    "networks": ("tenant/networks.html", _networks),
}


def _render(
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
) -> Response:
    template, load = PAGES[name]
    with sessions() as db:
        context = load(db=db, user=user, settings=settings, marker=marker)
    return page(
        request, template, user=user, flash=flash, status=status, form=kept(form), **context
    )


def _retry(
    request: Request,
    name: PageName,
    *,
    user: Principal,
    sessions: Sessions,
    settings: Settings,
    form: dict[str, str] | None = None,
) -> Callable[[Flash, int], Response]:
    def render(flash: Flash, status: int) -> Response:
        return _render(
            request,
            name,
            user=user,
            sessions=sessions,
            settings=settings,
            form=form,
            flash=flash,
            status=status,
        )

    return render


@router.get("/overview")
def show_overview(
    request: Request, user: ConsoleUser, sessions: Sessions, settings: AppSettings
) -> Response:
    return _render(request, "overview", user=user, sessions=sessions, settings=settings)


@router.get("/servers")
def show_servers(
    request: Request,
    user: ConsoleUser,
    sessions: Sessions,
    settings: AppSettings,
    marker: Marker = None,
) -> Response:
    return _render(
        request, "servers", user=user, sessions=sessions, settings=settings, marker=marker
    )


@router.get("/networks")
def show_networks(
    request: Request,
    user: ConsoleUser,
    sessions: Sessions,
    settings: AppSettings,
    marker: Marker = None,
) -> Response:
    return _render(
        request, "networks", user=user, sessions=sessions, settings=settings, marker=marker
    )


@router.post("/servers")
def create_server(
    request: Request,
    user: ConsoleUser,
    sessions: Sessions,
    settings: AppSettings,
    name: Annotated[str, Form()] = "",
    pool: Annotated[str, Form()] = "",
    flavor: Annotated[str, Form()] = "",
    image: Annotated[str, Form()] = "",
    network: Annotated[str, Form()] = "",
) -> Response:
    """Boot a server in the chosen pool, or where the scheduler puts it."""
    form = {"name": name, "pool": pool, "flavor": flavor, "image": image, "network": network}

    def action() -> tuple[str, str]:
        data = parse(
            ServerCreate,
            {
                "name": name.strip(),
                "flavor": flavor,
                "image": image,
                "pool": pool or None,
                "network": network or None,
            },
        )
        made = servers.create(sessions=sessions, actor=user, data=data, settings=settings)
        why = f" (placement: {made.placement.reason})" if made.placement else ""
        return (
            "/console/servers",
            f"Server {made.name} created in pool {made.pool}{why}, status {made.status}",
        )

    return submit(
        request,
        action=action,
        retry=_retry(
            request, "servers", user=user, sessions=sessions, settings=settings, form=form
        ),
    )


@router.post("/networks")
def create_network(
    request: Request,
    user: ConsoleUser,
    sessions: Sessions,
    settings: AppSettings,
    name: Annotated[str, Form()] = "",
    pool: Annotated[str, Form()] = "",
) -> Response:
    """Create a network in the chosen pool, or where the scheduler puts it."""
    form = {"name": name, "pool": pool}

    def action() -> tuple[str, str]:
        data = parse(NetworkCreate, {"name": name.strip(), "pool": pool or None})
        made = networks.create(sessions=sessions, actor=user, data=data, settings=settings)
        return "/console/networks", f"Network {made.name} created in pool {made.pool}"

    return submit(
        request,
        action=action,
        retry=_retry(
            request, "networks", user=user, sessions=sessions, settings=settings, form=form
        ),
    )


@router.post("/{kind}/{record_id}/delete")
def delete_resource(
    request: Request,
    kind: str,
    record_id: str,
    user: ConsoleUser,
    sessions: Sessions,
    settings: AppSettings,
) -> Response:
    """Delete a server (a job waits until the pool has removed it) or a network."""
    if kind not in DELETABLE:
        raise NotFound(f"no such console page: {kind}")
    module, noun, name = DELETABLE[kind]

    def action() -> tuple[str, str]:
        with sessions() as db:
            shown = module.show(db=db, actor=user, settings=settings, record_id=record_id)
        job = module.delete(sessions=sessions, actor=user, settings=settings, record_id=record_id)
        what = f"{noun} {shown.name} in pool {shown.pool}"
        if job is None:
            return f"/console/{kind}", f"Deleted {what}"
        return f"/console/{kind}", f"Deleting {what} (job {job.id})"

    return submit(
        request,
        action=action,
        retry=_retry(request, name, user=user, sessions=sessions, settings=settings),
    )
