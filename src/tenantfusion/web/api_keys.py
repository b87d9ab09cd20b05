"""API keys page: the caller's keys, create one (its secret shown once, on that answer
only, never in a cookie or a redirect), revoke one. The same service functions as
``apikeys/views.py``."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool

from tenantfusion.apikeys import service
from tenantfusion.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from tenantfusion.deps import AppSettings, Sessions
from tenantfusion.errors import TenantFusionError
from tenantfusion.platform.principal import Principal
from tenantfusion.web.auth import ConsoleUser
from tenantfusion.web.render import (
    Flash,
    kept,
    model_input,
    page,
    parse,
    read_form,
    submit_in_thread,
)
from tenantfusion.web.routing import console_router

router = console_router()
KEYS = "/console/api-keys"


def _keys_page(
    request: Request,
    *,
    user: Principal,
    sessions: Sessions,
    form: dict[str, str] | None = None,
    flash: Flash | None = None,
    status: int = 200,
    created: ApiKeyCreated | None = None,
) -> Response:
    with sessions() as db:
        keys = [ApiKeyRead.model_validate(k) for k in service.list_(db=db, actor=user)]
    return page(
        request,
        "api_keys.html",
        user=user,
        flash=flash,
        status=status,
        form=kept(form or {"expires_in_days": "90"}),
        keys=keys,
        created=created,
    )


@router.get("/api-keys")
def show_keys(request: Request, user: ConsoleUser, sessions: Sessions) -> Response:
    return _keys_page(request, user=user, sessions=sessions)


@router.post("/api-keys")
async def create_key(
    request: Request, user: ConsoleUser, sessions: Sessions, settings: AppSettings
) -> Response:
    """A new key; the answer is the page itself, showing the secret this once."""
    form = await read_form(request)
    fields = model_input(form)
    if "expires_in_days" not in fields:
        fields["expires_in_days"] = None  # an empty field: the key never expires

    def create() -> Response:
        try:
            data = parse(ApiKeyCreate, fields)
            with sessions.begin() as db:
                key, secret = service.create(db=db, actor=user, data=data, settings=settings)
                created = ApiKeyCreated(
                    **ApiKeyRead.model_validate(key).model_dump(), secret=secret
                )
        except TenantFusionError as e:
            return _keys_page(
                request, user=user, sessions=sessions, form=form, flash=Flash.of(e), status=e.status
            )
        flash = Flash("ok", f"API key {created.name} created", "Copy its secret now.")
        return _keys_page(
            request, user=user, sessions=sessions, flash=flash, status=201, created=created
        )

    return await run_in_threadpool(create)


@router.post("/api-keys/{key}/revoke")
async def revoke_key(request: Request, key: str, user: ConsoleUser, sessions: Sessions) -> Response:
    """Revoke a key at once (the API's DELETE)."""

    def action() -> tuple[str, str]:
        with sessions.begin() as db:
            found = service.revoke(
                db=db, actor=user, key=service.get_or_raise(db=db, actor=user, ref=key)
            )
            name = found.name
        return KEYS, f"API key {name} revoked"

    def again(flash: Flash, status: int) -> Response:
        return _keys_page(request, user=user, sessions=sessions, flash=flash, status=status)

    return await submit_in_thread(request, action=action, retry=again)
