"""FastAPI dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.errors import NotAuthenticated, TenantFusionError
from tenantfusion.observe import source_of
from tenantfusion.platform import auth as auth_service
from tenantfusion.platform import token_cache
from tenantfusion.platform.principal import Principal
from tenantfusion.platform.throttle import LoginGate


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


def _finish(session: Session, *, ok: bool) -> None:
    try:
        session.commit() if ok else session.rollback()
    finally:
        session.close()


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session per request: committed when the handler returns, rolled back on error.

    Creating a session does no I/O; finishing it is one hop to a worker thread.
    """
    session = get_sessions(request)()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_finish, session, ok=False)
        raise
    await run_in_threadpool(_finish, session, ok=True)


#: ``scope="function"``: committed before the response is sent, so a client (or another
#: replica behind the balancer) never acts on an answer whose writes are not visible yet.
DbSession = Annotated[Session, Depends(get_db, scope="function")]


async def _app_settings(request: Request) -> Settings:
    return get_app_settings(request)


async def _sessions(request: Request) -> sessionmaker[Session]:
    return get_sessions(request)


#: async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop to and fro per
#: request for reading an attribute (each hop waits for a core on a busy machine).
AppSettings = Annotated[Settings, Depends(_app_settings)]
Sessions = Annotated[sessionmaker[Session], Depends(_sessions)]


#: The two ways to authenticate, as OpenAPI security schemes (either one suffices).
TOKEN_SCHEME = APIKeyHeader(
    name="X-Auth-Token",
    scheme_name="token",
    description="A bearer token from `POST /v1/auth/tokens`.",
    auto_error=False,
)
SIGNATURE_SCHEME = APIKeyHeader(
    name="Signature",
    scheme_name="signature",
    description=(
        "A request signed with an API key per RFC 9421 HTTP Message Signatures: "
        "`Signature-Input` names one signature (algorithm `hmac-sha256`, keyed by the UTF-8 "
        "bytes of the key's secret) covering at least `@method`, `@target-uri` and "
        "`content-digest`, with `keyid`, `created` (within 5 minutes) and a `nonce` never "
        "used before; `Signature` carries it; `Content-Digest` is the RFC 9530 `sha-256` "
        "of the exact body bytes, also for an empty body."
    ),
    auto_error=False,
)


async def get_token(x_auth_token: Annotated[str | None, Header()] = None) -> str:
    if not x_auth_token:
        raise NotAuthenticated("send a token in X-Auth-Token (POST /v1/auth/tokens)")
    return x_auth_token


def _authenticate(sessions: sessionmaker[Session], token: str) -> Principal:
    with sessions() as db:
        return auth_service.authenticate(db=db, raw_token=token)


async def principal_from_token(request: Request, token: str) -> Principal:
    """The user behind ``token``: from the short-lived token cache, else validated in the
    database. Raises NotAuthenticated."""
    principal = token_cache.lookup(token)
    if principal is None:
        principal = await run_in_threadpool(_authenticate, get_sessions(request), token)
    request.state.principal = principal
    return principal


def target_uri(request: Request) -> str:
    """The request's absolute URI as the client sent it (raw path, no decoding)."""
    scope = request.scope
    host = request.headers.get("host", "")
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope['scheme']}://{host}{path}" + (f"?{query}" if query else "")


async def principal_from_signature(request: Request) -> Principal:
    """The user whose API key signed the request (RFC 9421). Raises SignatureRejected or
    TooManyAttempts; a request is checked (and a rejection counted) once."""
    from tenantfusion.apikeys import auth as api_key_auth
    from tenantfusion.apikeys.signing import request_message

    refused: TenantFusionError | None = getattr(request.state, "signature_refused", None)
    if refused is not None:  # an earlier dependency checked this request already
        raise refused
    message = request_message(
        method=request.method, url=target_uri(request), headers=request.headers.items()
    )
    try:
        principal = await api_key_auth.authenticate(
            sessions=get_sessions(request),
            settings=get_app_settings(request),
            nonces=request.app.state.nonce_ledger,
            lockout=request.app.state.signature_lockout,
            message=message,
            body=await request.body(),
            source=source_of(request.scope),
        )
    except TenantFusionError as e:
        request.state.signature_refused = e
        raise
    request.state.principal = principal
    return principal


async def optional_principal(request: Request) -> Principal | None:
    """The caller if the request carries valid credentials, else None (no error). A
    signed request is verified once: the route's own dependency reuses the principal."""
    token = request.headers.get("x-auth-token")
    try:
        if token:
            return await principal_from_token(request, token)
        if "signature-input" in request.headers:
            return await principal_from_signature(request)
    except TenantFusionError:
        return None
    return None


async def get_principal(
    request: Request,
    x_auth_token: Annotated[str | None, Security(TOKEN_SCHEME)] = None,
    _signature: Annotated[str | None, Security(SIGNATURE_SCHEME)] = None,
) -> Principal:
    """The caller of an API route: ``X-Auth-Token``, or a request signed with an API key
    (``Signature-Input`` and ``Signature``, RFC 9421)."""
    verified: Principal | None = getattr(request.state, "principal", None)
    if verified is not None:  # this request's credentials, checked by an earlier dependency
        return verified
    if not x_auth_token and "signature-input" in request.headers:
        return await principal_from_signature(request)
    return await principal_from_token(request, await get_token(x_auth_token))


async def get_platform_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require_platform_admin()
    return principal


async def login_slot(request: Request) -> AsyncIterator[None]:
    """A slot for one password check (``LoginGate``); raises LoginBusy when all are taken."""
    gate: LoginGate = request.app.state.login_gate
    gate.enter()
    try:
        yield
    finally:
        gate.leave()


CurrentUser = Annotated[Principal, Depends(get_principal)]
PlatformAdmin = Annotated[Principal, Depends(get_platform_admin)]
RawToken = Annotated[str, Depends(get_token)]
#: ``limit`` of a keyset-paginated list (tenants, users, pools).
Limit = Query(default=100, ge=1, le=1000)
