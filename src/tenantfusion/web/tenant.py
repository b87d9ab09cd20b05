"""Tenant pages and their forms: servers, networks, subnets, routers, floating IPs,
volumes.

Every kind is created, acted on and deleted through its resource service module, exactly
as the API's routes do (``resources/views.py``); a form's fields become the API's request
model, so the console accepts and refuses what the API does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.deps import AppSettings, Sessions
from tenantfusion.errors import NotFound
from tenantfusion.jobs.models import Job
from tenantfusion.platform.principal import Principal
from tenantfusion.resources import floating_ips, networks, routers, servers, subnets, volumes
from tenantfusion.resources.schemas import (
    FloatingIPAction,
    FloatingIPCreate,
    NetworkCreate,
    ResourceRead,
    RouterAction,
    RouterCreate,
    ServerAction,
    ServerCreate,
    SubnetCreate,
    VolumeAction,
    VolumeCreate,
)
from tenantfusion.web.auth import ConsoleUser
from tenantfusion.web.pages import PAGE_SIZE, PageName, page_name, render, retry, url_of
from tenantfusion.web.render import model_input, parse, read_form, submit_in_thread
from tenantfusion.web.routing import console_router

router = console_router()
Marker = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=1000)]
#: What a record id looks like (a ``back_id`` is put into a URL only if it is one).
RECORD_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
#: The pages with a list (and a form) of their own.
LIST_PAGES: tuple[PageName, ...] = (
    "overview",
    "servers",
    "networks",
    "subnets",
    "routers",
    "floating-ips",
    "volumes",
    "users",
    "quotas",
)


class ResourceService(Protocol):
    """A resource service module (``servers``, ``networks``...): what the forms call."""

    def show(
        self, *, db: Session, actor: Principal, settings: Settings, record_id: str
    ) -> ResourceRead: ...

    def create(
        self, *, sessions: sessionmaker[Session], actor: Principal, data: Any, settings: Settings
    ) -> ResourceRead: ...

    def delete(
        self,
        *,
        sessions: sessionmaker[Session],
        actor: Principal,
        settings: Settings,
        record_id: str,
    ) -> Job | None: ...


Act = Callable[..., ResourceRead]


@dataclass(frozen=True)
class Kind:
    """A resource kind as the console offers it."""

    noun: str
    service: ResourceService
    create_model: type[BaseModel]
    page: PageName
    act: Act | None = None
    action_model: type[BaseModel] | None = None


#: URL segment → kind (the same segments as the API's).
KINDS: dict[str, Kind] = {
    "servers": Kind("server", servers, ServerCreate, "servers", servers.action, ServerAction),
    "networks": Kind("network", networks, NetworkCreate, "networks"),
    "subnets": Kind("subnet", subnets, SubnetCreate, "subnets"),
    "routers": Kind("router", routers, RouterCreate, "routers", routers.action, RouterAction),
    "floating-ips": Kind(
        "floating IP",
        floating_ips,
        FloatingIPCreate,
        "floating-ips",
        floating_ips.action,
        FloatingIPAction,
    ),
    "volumes": Kind("volume", volumes, VolumeCreate, "volumes", volumes.action, VolumeAction),
}


def _kind(segment: str) -> Kind:
    if segment not in KINDS:
        raise NotFound(f"no such console page: {segment}")
    return KINDS[segment]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _label(item: ResourceRead) -> str:
    return str(getattr(item, "address", "") or item.name)


def _back(form: dict[str, str], default: PageName) -> tuple[PageName, str | None]:
    """Where a button leads back to: the page named by its ``back`` field (a server's own
    page with ``back_id``), else ``default``."""
    name, record_id = page_name(form.get("back", ""), default), form.get("back_id", "")
    if name != "server":
        return name, None
    return (name, record_id) if RECORD_ID.fullmatch(record_id) else (default, None)


def _show_page(name: PageName) -> Callable[..., Response]:
    def show(
        request: Request,
        user: ConsoleUser,
        sessions: Sessions,
        settings: AppSettings,
        marker: Marker = None,
        limit: Limit = PAGE_SIZE,
    ) -> Response:
        return render(
            request,
            name,
            user=user,
            sessions=sessions,
            settings=settings,
            marker=marker,
            limit=limit,
        )

    show.__name__ = f"show_{name.replace('-', '_')}"
    return show


for _name in LIST_PAGES:
    router.get(f"/{_name}")(_show_page(_name))


@router.get("/servers/{record_id}")
def show_server(
    request: Request, record_id: str, user: ConsoleUser, sessions: Sessions, settings: AppSettings
) -> Response:
    """One server: addresses, flavor, image, power state, floating IPs, its actions."""
    return render(
        request, "server", user=user, sessions=sessions, settings=settings, record_id=record_id
    )


@router.post("/{segment}")
async def create_resource(
    request: Request, segment: str, user: ConsoleUser, sessions: Sessions, settings: AppSettings
) -> Response:
    """Create an object from its page's form (in the chosen pool, or the scheduler's);
    a refusal shows on the same page, the input kept."""
    kind = _kind(segment)
    form = await read_form(request)
    back, back_id = _back(form, kind.page)

    def action() -> tuple[str, str]:
        data = parse(kind.create_model, model_input(form))
        made = kind.service.create(sessions=sessions, actor=user, data=data, settings=settings)
        why = f" (placement: {made.placement.reason})" if made.placement else ""
        return url_of(back, back_id), (
            f"{_upper_first(kind.noun)} {_label(made)} created in pool {made.pool}{why}, "
            f"status {made.status}"
        )

    return await submit_in_thread(
        request,
        action=action,
        retry=retry(
            request,
            back,
            user=user,
            sessions=sessions,
            settings=settings,
            form=form,
            record_id=back_id,
        ),
    )


@router.post("/{segment}/{record_id}/action")
async def act_on_resource(
    request: Request,
    segment: str,
    record_id: str,
    user: ConsoleUser,
    sessions: Sessions,
    settings: AppSettings,
) -> Response:
    """An action button or form (start/stop/reboot, router interfaces and gateway, floating
    IP association, volume attachment): the API's action body, sent to the same service function."""
    kind = _kind(segment)
    if kind.act is None or kind.action_model is None:
        raise NotFound(f"{kind.noun}s have no actions")
    act, model = kind.act, kind.action_model
    form = await read_form(request)
    back, back_id = _back(form, kind.page)

    def action() -> tuple[str, str]:
        data = parse(model, model_input(form))
        with sessions() as db:
            done = act(db=db, actor=user, settings=settings, record_id=record_id, data=data)
        verb = str(getattr(data, "action", "")).replace("_", " ")
        return url_of(back, back_id), (
            f"{verb.capitalize()}: {kind.noun} {_label(done)} in pool {done.pool}, "
            f"status {done.status}"
        )

    return await submit_in_thread(
        request,
        action=action,
        retry=retry(
            request, back, user=user, sessions=sessions, settings=settings, record_id=back_id
        ),
    )


@router.post("/{segment}/{record_id}/delete")
async def delete_resource(
    request: Request,
    segment: str,
    record_id: str,
    user: ConsoleUser,
    sessions: Sessions,
    settings: AppSettings,
) -> Response:
    """Delete an object (servers: a job waits until the pool has removed it)."""
    kind = _kind(segment)
    form = await read_form(request)
    back, back_id = _back(form, kind.page)

    def action() -> tuple[str, str]:
        with sessions() as db:
            shown = kind.service.show(db=db, actor=user, settings=settings, record_id=record_id)
        job = kind.service.delete(
            sessions=sessions, actor=user, settings=settings, record_id=record_id
        )
        what = f"{kind.noun} {_label(shown)} in pool {shown.pool}"
        return url_of(
            back, back_id
        ), f"Deleted {what}" if job is None else f"Deleting {what} (job {job.id})"

    return await submit_in_thread(
        request,
        action=action,
        retry=retry(
            request, back, user=user, sessions=sessions, settings=settings, record_id=back_id
        ),
    )
