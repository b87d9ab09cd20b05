"""What every command group shares: the client from the saved login, one-line errors with
stable exit codes, generic list/show/delete over a resource path, waiting with progress."""

from __future__ import annotations

import enum
import functools
import sys
import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tenantfusion.client import config
from tenantfusion.client.http import Client, ClientError, NotLoggedIn, WaitFailed
from tenantfusion.client.output import emit, err

P = ParamSpec("P")
T = TypeVar("T")


class Output(enum.StrEnum):
    table = "table"
    json = "json"


OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="table or json")]
UrlOpt = Annotated[
    str | None, typer.Option("--url", envvar="TENANTFUSION_URL", help="API base URL")
]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Wait until the work is done")]
TenantOpt = Annotated[
    str | None, typer.Option("--tenant", help="Tenant id (default: the logged-in tenant)")
]


def tenant_path(path: str, tenant: str | None) -> str:
    """Fill ``{tenant}`` in a path with ``tenant`` or the logged-in user's tenant id."""
    if "{tenant}" not in path:
        return path
    login = config.load()
    tenant_id = tenant or (login.tenant_id if login else None)
    if not tenant_id:
        raise typer.BadParameter("--tenant is required (you are not logged in as a tenant)")
    return path.format(tenant=tenant_id)


def client(url: str | None = None) -> Client:
    """A client with the saved token. Raises NotLoggedIn without a saved login."""
    login = config.load()
    if login is None or not login.token:
        raise NotLoggedIn("not logged in: run `tenantfusion login`")
    return Client(config.base_url(url), login.token)


def one_line_errors(fn: Callable[P, T]) -> Callable[P, T]:
    """Turn client errors into one stderr line and the error's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except ClientError as e:
            err.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(e.exit_code) from None

    return wrapper


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        disable=not sys.stderr.isatty(),
        transient=True,
    )


def wait_for(
    *,
    what: str,
    poll: Callable[[], dict[str, Any]],
    state: Callable[[dict[str, Any]], str],
    done: set[str],
    failed: set[str],
    timeout: float,
) -> dict[str, Any]:
    """Poll until ``state`` is in ``done`` (returns the object) or ``failed``/timeout
    (raises WaitFailed)."""
    deadline = time.monotonic() + timeout
    with _progress() as progress:
        task = progress.add_task(f"waiting for {what}", total=None)
        while True:
            current = poll()
            now = state(current)
            progress.update(task, description=f"{what}: {now}")
            if now in done:
                return current
            if now in failed:
                detail = current.get("error") or current.get("status")
                raise WaitFailed(f"{what} ended {now}: {detail}")
            if time.monotonic() > deadline:
                raise WaitFailed(f"{what} still {now} after {timeout:.0f} s")
            time.sleep(1)


def wait_job(api: Client, job: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    return wait_for(
        what=f"job {job['id']} ({job['kind']})",
        poll=lambda: api.call("GET", f"/v1/jobs/{job['id']}"),
        state=lambda j: str(j["state"]),
        done={"succeeded"},
        failed={"failed"},
        timeout=timeout,
    )


def resource_group(
    *,
    name: str,
    path: str,
    columns: Sequence[str],
    help: str,
    filters: bool = True,
    read_only: bool = False,
) -> typer.Typer:
    """A Typer group with ``list``, ``show`` and ``delete`` over ``/v1/{path}``
    (``list`` only when ``read_only``)."""
    group = typer.Typer(name=name, help=help, no_args_is_help=True)

    @group.command("list")
    @one_line_errors
    def list_(
        output: OutputOpt = Output.table,
        url: UrlOpt = None,
        pool: Annotated[str | None, typer.Option(help="Only this pool")] = None,
        status: Annotated[str | None, typer.Option(help="Only this status")] = None,
        name_: Annotated[str | None, typer.Option("--name", help="Only this name")] = None,
        limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
        all_: Annotated[bool, typer.Option("--all", help="Follow next_marker")] = False,
        tenant: TenantOpt = None,
    ) -> None:
        """List (merged across pools for tenant resources)."""
        api = client(url)
        where = tenant_path(path, tenant)
        params: dict[str, Any] = (
            {"pool": pool, "status": status, "name": name_, "limit": limit} if filters else {}
        )
        page = api.call("GET", f"/v1/{where}", params=params)
        while all_ and page.get("next_marker"):
            more = api.call("GET", f"/v1/{where}", params={**params, "marker": page["next_marker"]})
            page = {**more, "items": page["items"] + more["items"]}
        emit(page, output=output, columns=columns)

    if read_only:
        return group

    @group.command("show")
    @one_line_errors
    def show(
        ref: Annotated[str, typer.Argument(help="id (or name where the API takes one)")],
        output: OutputOpt = Output.table,
        url: UrlOpt = None,
        tenant: TenantOpt = None,
    ) -> None:
        """Show one."""
        found = client(url).call("GET", f"/v1/{tenant_path(path, tenant)}/{ref}")
        emit(found, output=output, columns=columns)

    @group.command("delete")
    @one_line_errors
    def delete(
        ref: Annotated[str, typer.Argument(help="id (or name where the API takes one)")],
        wait: WaitOpt = False,
        output: OutputOpt = Output.table,
        url: UrlOpt = None,
        tenant: TenantOpt = None,
    ) -> None:
        """Delete (servers and mappings: a job; --wait waits for it)."""
        api = client(url)
        job = api.call("DELETE", f"/v1/{tenant_path(path, tenant)}/{ref}")
        if job and wait:
            job = wait_job(api, job)
        if job:
            emit(job, output=output, columns=("id", "kind", "state"))

    return group
