"""Rendering console pages: templates (autoescaped), flash messages, form submissions."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ValidationError

from tenantfusion.errors import InvalidInput, TenantFusionError
from tenantfusion.platform.principal import Principal
from tenantfusion.web import cells
from tenantfusion.web.auth import CSRF_FIELD, csrf_token, drop_cookie, session_of, set_cookie

HERE = Path(__file__).parent
FLASH_COOKIE = "tf_flash"
FLASH_SECONDS = 60
#: Form fields that are lists in the API (comma- or space-separated on the page).
LIST_FIELDS = frozenset({"dns_nameservers"})
#: Form fields that steer the console, never part of the API's request model.
CONSOLE_FIELDS = frozenset({CSRF_FIELD, "back", "back_id"})
M = TypeVar("M", bound=BaseModel)

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
templates.env.filters.update(cells.FILTERS)
templates.env.globals.update(cells.GLOBALS)


@dataclass(frozen=True)
class Flash:
    """A message shown once at the top of a page."""

    level: Literal["ok", "error"]
    title: str
    detail: str = ""

    @classmethod
    def of(cls, error: TenantFusionError) -> Flash:
        return cls("error", error.title, error.detail)

    def encode(self) -> str:
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode()

    @classmethod
    def decode(cls, value: str | None) -> Flash | None:
        if not value:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(value.encode()))
            return cls(level="ok" if data["level"] == "ok" else "error", **_texts(data))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None


def _texts(data: dict[str, Any]) -> dict[str, str]:
    return {"title": str(data["title"])[:200], "detail": str(data.get("detail", ""))[:1000]}


def kept(values: dict[str, str] | None = None) -> defaultdict[str, str]:
    """Submitted form values for re-rendering (missing fields read as empty)."""
    return defaultdict(str, values or {})


def page(
    request: Request,
    template: str,
    *,
    user: Principal | None,
    flash: Flash | None = None,
    status: int = 200,
    session: str | None = None,
    **context: Any,
) -> Response:
    """Render ``template`` with the user, a CSRF token for its forms and a pending flash."""
    pending = Flash.decode(request.cookies.get(FLASH_COOKIE))
    bound = session or session_of(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "flash": flash or pending,
            "csrf": csrf_token(settings=request.app.state.settings, session=bound) if bound else "",
            "form": kept(),
            **context,
        },
        status_code=status,
    )
    if pending:
        drop_cookie(response, request, FLASH_COOKIE)
    return response


def redirect(request: Request, url: str, *, flash: Flash | None = None) -> RedirectResponse:
    """303 to ``url`` (POST-redirect-GET), with a flash for the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        set_cookie(response, request, FLASH_COOKIE, flash.encode(), max_age=FLASH_SECONDS)
    return response


def submit(
    request: Request,
    *,
    action: Callable[[], tuple[str, str]],
    retry: Callable[[Flash, int], Response],
) -> Response:
    """Run a form's action, which returns (where to go, what happened).

    Success redirects there with an ``ok`` flash; a domain error renders ``retry`` (the
    form's page, its input kept) with the error's title and detail, never a 500 page.
    """
    try:
        url, message = action()
    except TenantFusionError as e:
        return retry(Flash.of(e), e.status)
    return redirect(request, url, flash=Flash("ok", message))


async def submit_in_thread(
    request: Request,
    *,
    action: Callable[[], tuple[str, str]],
    retry: Callable[[Flash, int], Response],
) -> Response:
    """``submit`` from an async page (one that read its form): the action and the retry
    page, which call pools and the database, run in a worker thread."""
    return await run_in_threadpool(partial(submit, request, action=action, retry=retry))


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Build a service input from form values. Raises InvalidInput naming the fields."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        fields = [".".join(str(p) for p in err["loc"]) or "form" for err in errors]
        detail = "; ".join(f"{f}: {err['msg']}" for f, err in zip(fields, errors, strict=True))
        raise InvalidInput(detail, field=fields[0]) from e


async def read_form(request: Request) -> dict[str, str]:
    """The submitted fields (stripped), the console's own ones included."""
    return {k: v.strip() for k, v in (await request.form()).items() if isinstance(v, str)}


def model_input(form: dict[str, str]) -> dict[str, Any]:
    """A form as the API's request body: empty fields left out (the API's defaults apply),
    list fields split, the console's own fields dropped."""
    data: dict[str, Any] = {}
    for key, value in form.items():
        if key in CONSOLE_FIELDS or value == "":
            continue
        data[key] = value.replace(",", " ").split() if key in LIST_FIELDS else value
    return data
