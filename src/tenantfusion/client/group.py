"""One generic command group over an API collection: ``list``, ``show`` and ``delete``
with the options that collection really takes, and its output columns.

Typer reads a command's options from its signature; the commands here take ``**options``
and carry the signature built for their collection, so ``jobs list`` offers ``--state``,
``servers list`` offers ``--pool --status --name`` and ``pools list`` offers neither.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from tenantfusion.client.base import (
    EXIT_CODES,
    TenantOpt,
    TimeoutOpt,
    UrlOpt,
    WaitOpt,
    client,
    one_line_errors,
    prints,
    tenant_path,
    wait_job,
)
from tenantfusion.client.http import Client
from tenantfusion.client.output import note, warn_partial


@dataclass(frozen=True)
class Filter:
    """A query parameter of a list, offered as ``--<param>``."""

    param: str
    help: str


POOL, STATUS, NAME = (
    Filter("pool", "Only this pool"),
    Filter("status", "Only this status (the pool's word, any case)"),
    Filter("name", "Only this name"),
)
RESOURCE_FILTERS = (POOL, STATUS, NAME)
PurgeOpt = Annotated[
    bool, typer.Option("--purge", help="Delete every object left in it first (a job)")
]


def option(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> Any:
    """A command parameter: ``annotation`` is ``Annotated[type, typer.Option(...)]``."""
    kind = inspect.Parameter.KEYWORD_ONLY
    return inspect.Parameter(name, kind, default=default, annotation=annotation)


COMMON = (option("url", UrlOpt, None),)


def command(
    run: Callable[..., Any],
    *,
    params: Sequence[inspect.Parameter],
    doc: str,
    columns: Sequence[str] = (),
) -> Callable[..., None]:
    """``run(**options)`` as a Typer command callback taking ``params`` (and ``-f``/``-c``:
    it returns what to print, a list in ``columns`` by default)."""
    run.__signature__ = inspect.Signature(list(params))  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    run.__doc__ = doc
    return one_line_errors(prints(columns=columns)(run))


def fetch(api: Client, path: str, *, params: dict[str, Any], every: bool) -> dict[str, Any]:
    """GET a list: one page, or with ``every`` all of them (following ``next_marker``),
    each pool's outcome the first failure seen on any page."""
    page: dict[str, Any] = api.call("GET", path, params=params)
    outcomes = dict(page.get("pools") or {})
    while every and page.get("next_marker"):
        more = api.call("GET", path, params={**params, "marker": page["next_marker"]})
        for pool, outcome in (more.get("pools") or {}).items():
            if outcomes.get(pool, "ok") == "ok":  # keep the first failure seen
                outcomes[pool] = outcome
        page = {**more, "items": page["items"] + more["items"]}
    if outcomes:
        page["pools"] = outcomes
    return page


def resource_group(
    *,
    name: str,
    path: str,
    columns: Sequence[str],
    help: str,
    ref: str = "id",
    filters: Sequence[Filter] = (),
    max_limit: int | None = None,
    job_delete: bool = False,
    purge_delete: bool = False,
    verbs: Sequence[str] = ("list", "show", "delete"),
) -> typer.Typer:
    """A Typer group with ``list`` (``filters``; ``--limit``/``--all`` when the list pages,
    up to ``max_limit``), ``show REF`` and ``delete REF`` (``--wait`` when it answers with a
    job) over ``/v1/{path}``, those of them in ``verbs``. ``{tenant}`` in ``path`` adds
    ``--tenant``; ``purge_delete`` adds ``delete --purge`` (``?purge=true``: everything in
    it goes too, as a job)."""
    group = typer.Typer(name=name, help=help, no_args_is_help=True, epilog=EXIT_CODES)
    common = [*COMMON]
    if "{tenant}" in path:
        common.insert(0, option("tenant", TenantOpt, None))
    ref_arg = option("ref", Annotated[str, typer.Argument(metavar=ref.upper(), help=ref)])

    def list_(**o: Any) -> Any:
        where = f"/v1/{tenant_path(path=path, tenant=o.get('tenant'))}"
        params = {f.param: o[f.param] for f in filters} | {"limit": o.get("limit")}
        page = fetch(client(url=o["url"]), where, params=params, every=o.get("all", False))
        warn_partial(page)
        return page

    paging = []
    if max_limit:
        limit = Annotated[int, typer.Option(min=1, max=max_limit, help="Page size")]
        every = Annotated[bool, typer.Option("--all", help="Follow next_marker to the end")]
        paging = [option("limit", limit, min(100, max_limit)), option("all", every, False)]
    options = [
        option(f.param, Annotated[str | None, typer.Option(f"--{f.param}", help=f.help)], None)
        for f in filters
    ]
    if "list" in verbs:
        group.command("list")(
            command(list_, params=[*options, *paging, *common], doc="List.", columns=columns)
        )

    def show(**o: Any) -> Any:
        where = tenant_path(path=path, tenant=o.get("tenant"))
        return client(url=o["url"]).call("GET", f"/v1/{where}/{o['ref']}")

    if "show" in verbs:
        group.command("show")(command(show, params=[ref_arg, *common], doc="Show one."))

    def delete(**o: Any) -> Any:
        api = client(url=o["url"])
        where = tenant_path(path=path, tenant=o.get("tenant"))
        params = {"purge": "true"} if o.get("purge") else None
        job = api.call("DELETE", f"/v1/{where}/{o['ref']}", params=params)
        if job is None:
            note(f"deleted {name} {o['ref']}")
            return None
        return wait_job(api=api, job=job, timeout=o["timeout"]) if o.get("wait") else job

    waiting = [option("wait", WaitOpt, False), option("timeout", TimeoutOpt, 600.0)]
    purging = [option("purge", PurgeOpt, False)] if purge_delete else []
    params = [ref_arg, *purging, *(waiting if job_delete or purge_delete else ()), *common]
    doc = "Delete (a job: --wait waits for it)." if job_delete else "Delete."
    if purge_delete:
        doc = (
            "Delete; refused while it holds objects, unless --purge (deletes them all "
            "first, in a job: --wait waits for it)."
        )
    if "delete" in verbs:
        group.command("delete")(command(delete, params=params, doc=doc))
    return group


def add_action(
    group: typer.Typer,
    *,
    path: str,
    action: str,
    doc: str,
    fields: Sequence[inspect.Parameter] = (),
) -> None:
    """``<group> <action> ID [fields]``: POST ``/v1/{path}/ID/action`` with ``action`` and
    the fields, printing the object it answers."""

    def run(**o: Any) -> Any:
        body = {"action": action, **{f.name: o[f.name] for f in fields}}
        return client(url=o["url"]).call("POST", f"/v1/{path}/{o['ref']}/action", json=body)

    ref = option("ref", Annotated[str, typer.Argument(metavar="ID", help="id")])
    params = [ref, *fields, *COMMON]
    group.command(action.replace("_", "-"))(command(run, params=params, doc=doc))
