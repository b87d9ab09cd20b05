"""What every command group shares: the client from the saved login, one-line errors with
stable exit codes, reading secrets, and waiting with progress."""

from __future__ import annotations

import functools
import inspect
import sys
import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.exceptions import TyperException

from tenantfusion.client import config
from tenantfusion.client.http import Client, ClientError, NotLoggedIn, WaitFailed
from tenantfusion.client.output import Format, emit, err, note

P = ParamSpec("P")
T = TypeVar("T")
EXIT_CODES = (
    "Exit codes: 0 ok; 1 the API refused (one line on stderr: error: <title>: <detail>"
    " (<type>, HTTP <status>)); 2 bad usage or input; 3 the server cannot be reached;"
    " 4 not logged in or the token expired; 5 --wait ended in failure or timed out."
)


def _url(value: str | None) -> str | None:
    try:
        return None if value is None else config.check_url(value)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e


FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        "--output",
        "-o",
        help="table, json or yaml (the API's answer), value (bare values), csv",
    ),
]
ColumnOpt = Annotated[
    list[str] | None,
    typer.Option("--column", "-c", help="Show this column (repeat: several, in this order)"),
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url", envvar="TENANTFUSION_URL", callback=_url, help="API base URL (default: saved)"
    ),
]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Wait until done (exit 5 if it fails)")]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", min=1, help="--wait: give up after this many seconds")
]
TenantOpt = Annotated[
    str | None, typer.Option("--tenant", help="Tenant id (default: the logged-in tenant)")
]


def tenant_path(*, path: str, tenant: str | None) -> str:
    """Fill ``{tenant}`` in a path with ``tenant`` or the logged-in user's tenant id."""
    if "{tenant}" not in path:
        return path
    login = config.load()
    tenant_id = tenant or (login.tenant_id if login else None)
    if not tenant_id:
        raise typer.BadParameter("--tenant is required (you are not logged in as a tenant)")
    return path.format(tenant=tenant_id)


def client(*, url: str | None) -> Client:
    """A client with the saved token. Raises NotLoggedIn without a saved login."""
    login = config.load()
    if login is None or not (login.token or login.api_key_id):
        raise NotLoggedIn("not logged in: run `tenantfusion login`")
    if login.api_key_id:
        from tenantfusion.client.signing import ApiKeyAuth

        key = ApiKeyAuth(key_id=login.api_key_id, secret=login.api_key_secret)
        return Client(url=config.base_url(url), auth=key)
    return Client(url=config.base_url(url), token=login.token)


def read_secret(*, from_stdin: bool, prompt: str) -> str:
    """One line from stdin, or a prompt that doesn't echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(prompt, hide_input=True))


def key_values(items: list[str] | None, *, option: str) -> dict[str, str]:
    """``["k=v", ...]`` as a dict. Raises BadParameter (exit 2) on an item without ``=``."""
    if any("=" not in item for item in items or ()):
        raise typer.BadParameter(f"{option} takes key=value")
    return dict(item.split("=", 1) for item in items or ())


def one_line_errors(fn: Callable[P, T]) -> Callable[P, T]:
    """Client errors become one stderr line and their exit code; anything unexpected one
    line and exit 1 — never a traceback. Typer's own usage errors pass through (exit 2)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except ClientError as e:
            note(f"error: {e}")
            raise typer.Exit(e.exit_code) from None
        except (TyperException, typer.Exit, typer.Abort):  # usage errors: Typer's (exit 2)
            raise
        except Exception as e:
            note(f"error: unexpected {type(e).__name__}: {e}")
            raise typer.Exit(1) from None

    return wrapper


def prints(*, columns: Sequence[str] = ()) -> Callable[[Callable[..., Any]], Callable[..., None]]:
    """A command returning what to show (None: nothing) gets ``-f/--format`` and
    ``-c/--column`` and prints it with them; ``columns``: a list's default columns."""
    extra = [
        inspect.Parameter(
            "fmt", inspect.Parameter.KEYWORD_ONLY, default=Format.table, annotation=FormatOpt
        ),
        inspect.Parameter(
            "column", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ColumnOpt
        ),
    ]

    def decorate(fn: Callable[..., Any]) -> Callable[..., None]:
        @functools.wraps(fn)
        def wrapper(
            *args: Any, fmt: Format = Format.table, column: list[str] | None = None, **kw: Any
        ) -> None:
            shown = fn(*args, **kw)
            if shown is not None:
                emit(shown, fmt=fmt, columns=columns, pick=column)

        signature = inspect.signature(fn, eval_str=True)
        params = [*signature.parameters.values(), *extra]
        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {**fn.__annotations__, **{p.name: p.annotation for p in extra}}
        return wrapper

    return decorate


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
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
    steps: Callable[[dict[str, Any]], tuple[int, int, str]] | None = None,
    interval: float = 1.0,
) -> dict[str, Any]:
    """Poll until ``state`` is in ``done`` (returns the object) or ``failed``/``timeout``
    (raises WaitFailed). A progress bar on a terminal's stderr (``steps``: step i of n),
    else one plain stderr line whenever the state or step changes."""
    deadline = time.monotonic() + timeout
    shown = ""
    with _progress() as progress:
        task = progress.add_task(what, total=None)
        while True:
            current = poll()
            now = state(current)
            step, total, name = steps(current) if steps else (0, 0, "")
            line = f"{what}: {now}" + (f", step {step}/{total} {name}".rstrip() if total else "")
            progress.update(task, description=line, completed=step, total=total or None)
            if progress.disable and line != shown:
                note(line)
            shown = line
            if now in done:
                return current
            if now in failed:
                raise WaitFailed(f"{what} ended {now}: {current.get('error') or now}")
            if time.monotonic() > deadline:
                raise WaitFailed(f"{what} still {now} after {timeout:.0f} s")
            time.sleep(interval)


def wait_job(*, api: Client, job: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Wait for a job to succeed; raises WaitFailed when it fails or time runs out."""
    return wait_for(
        what=f"job {job['id']} ({job['kind']})",
        poll=lambda: api.call("GET", f"/v1/jobs/{job['id']}"),
        state=lambda j: str(j["state"]),
        done={"succeeded"},
        failed={"failed"},
        timeout=timeout,
        steps=lambda j: (int(j["step"]), int(j["total_steps"]), str(j["step_name"])),
    )
