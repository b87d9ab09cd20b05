"""The Idempotency-Key guard (a dependency of every /v1 route) and the middleware that
stores the answer of the attempt that owns a key.

A request with ``Idempotency-Key`` from an authenticated caller (scope: its tenant, or
the platform user) claims the key before its handler runs. A retry of a finished request
gets the stored answer (status and body, with ``Idempotent-Replayed: true``); one sent
while the first still runs waits for it (``idempotency_wait_seconds``), then gets 409
``idempotency-in-progress``; the same key with another method, path or body is 422. An
answer of 5xx is not stored: a retry runs the request again and resumes what the failed
attempt left (creates find their record by the key, objects by their record tag).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import FastAPI, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantfusion.config import Settings
from tenantfusion.deps import optional_principal
from tenantfusion.errors import InvalidInput
from tenantfusion.idempotency import service
from tenantfusion.idempotency.service import Answer, KeyInProgress

MUTATING = frozenset({"POST", "PUT", "PATCH"})
STATE_KEY = "idempotency_key"
HEARTBEAT_KEY = "idempotency_heartbeat"
#: A request holds its key at most this long (its heartbeat stops; the lock runs out).
MAX_HOLD_SECONDS = 3600.0
MAX_KEY_LENGTH = 255
POLL_SECONDS = 0.25


class Replay(Exception):
    """Raised by the guard to answer with a stored response."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer


def _claim(
    sessions: sessionmaker[Session], settings: Settings, key: str, print_: str
) -> Answer | None:
    with sessions() as db:
        return service.claim(
            db=db,
            key=key,
            fingerprint=print_,
            lock_seconds=settings.idempotency_lock_seconds,
            ttl_seconds=settings.idempotency_ttl_seconds,
        )


async def guard(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Send the same key when retrying a POST/PUT/PATCH: the first "
            "answer comes back instead of a second action (kept 24 h)",
        ),
    ] = None,
) -> None:
    """Claim the request's Idempotency-Key, or answer with the stored response."""
    if request.method not in MUTATING or idempotency_key is None:
        return
    if not 0 < len(idempotency_key) <= MAX_KEY_LENGTH or not idempotency_key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            field="Idempotency-Key",
        )
    principal = await optional_principal(request)
    if principal is None:  # anonymous (login): never replay a token to someone else
        return
    scope = principal.tenant_id or f"user:{principal.user_id}"
    key = service.key_id(scope=scope, key=idempotency_key)
    print_ = service.fingerprint(
        method=request.method, path=request.url.path, body=await request.body()
    )
    settings: Settings = request.app.state.settings
    sessions: sessionmaker[Session] = request.app.state.sessions
    deadline = time.monotonic() + settings.idempotency_wait_seconds
    while True:
        try:
            answer = await run_in_threadpool(_claim, sessions, settings, key, print_)
        except KeyInProgress:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(POLL_SECONDS)
            continue
        break
    if answer is not None:
        raise Replay(answer)
    request.state.idempotency_key = key
    request.state.idempotency_heartbeat = asyncio.create_task(_hold(sessions, settings, key))
    service.CURRENT.set(key)


async def _hold(sessions: sessionmaker[Session], settings: Settings, key: str) -> None:
    """Renew the key's lock while its request runs (every third of the lock): a retry takes
    over only from an attempt that died, never from a slow one still working."""
    every = settings.idempotency_lock_seconds / 3
    for _ in range(int(MAX_HOLD_SECONDS / every) + 1):
        await asyncio.sleep(every)
        await run_in_threadpool(_renew, sessions, settings, key)


def _renew(sessions: sessionmaker[Session], settings: Settings, key: str) -> None:
    with sessions() as db:
        service.renew(db=db, key=key, lock_seconds=settings.idempotency_lock_seconds)


class IdempotencyMiddleware:
    """Stores the answer of a request whose handler owned an Idempotency-Key."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATING:
            await self.app(scope, receive, send)
            return
        sent: dict[str, object] = {"status": 500, "type": "", "body": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                headers = dict(message.get("headers") or [])
                sent["type"] = headers.get(b"content-type", b"").decode("latin-1")
            elif message["type"] == "http.response.body":
                sent["body"].append(message.get("body", b""))  # type: ignore[attr-defined]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            state = scope.get("state") or {}
            heartbeat = state.get(HEARTBEAT_KEY)
            if heartbeat is not None:
                heartbeat.cancel()
            key = state.get(STATE_KEY)
            if key is not None:
                await run_in_threadpool(self._settle, scope, key, sent)

    @staticmethod
    def _settle(scope: Scope, key: str, sent: dict[str, object]) -> None:
        sessions: sessionmaker[Session] = scope["app"].state.sessions
        status = int(sent["status"])  # type: ignore[call-overload]
        with sessions() as db:
            if status >= 500:
                service.release(db=db, key=key)
                return
            body = b"".join(sent["body"])  # type: ignore[arg-type]
            service.finish(db=db, key=key, answer=Answer(status, str(sent["type"]), body))


def install(app: FastAPI) -> None:
    """Add the answer-storing middleware and the replay handler to ``app``."""
    app.add_middleware(IdempotencyMiddleware)

    @app.exception_handler(Replay)
    async def replay(request: Request, exc: Replay) -> Response:
        answer = exc.answer
        return Response(
            content=answer.body,
            status_code=answer.status_code,
            media_type=answer.content_type or None,
            headers={"Idempotent-Replayed": "true"},
        )
