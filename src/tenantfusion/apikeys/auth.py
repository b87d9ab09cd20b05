"""The signature path of principal resolution: a request signed with an API key.

``verify_cached`` runs on the event loop and answers only for the common shape signed by
a key already in the cache (no database, no thread); ``verify_request`` runs in a worker
thread and answers everything. The nonce is then claimed in the ``NonceLedger``.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tenantfusion.apikeys import service
from tenantfusion.apikeys.lockout import Lockout, keys_of
from tenantfusion.apikeys.nonces import NonceLedger
from tenantfusion.apikeys.service import KeyState
from tenantfusion.apikeys.signing import Message, SignatureRejected, Verified, verify, verify_common
from tenantfusion.config import Settings
from tenantfusion.db import utcnow
from tenantfusion.platform.principal import Principal


class _NotCached(Exception):
    """The key's state is not in this process's cache: ask the database."""


def principal_of(state: KeyState | None, key_id: str) -> Principal:
    """The key's user, if the key may sign now. Raises SignatureRejected: unknown-key,
    key-revoked, key-expired, user-disabled."""
    if state is None:
        raise SignatureRejected(f"unknown key id {key_id!r}", reason="unknown-key")
    if state.revoked_at is not None:
        raise SignatureRejected("the key was revoked", reason="key-revoked")
    if state.expires_at is not None and state.expires_at <= utcnow():
        raise SignatureRejected("the key expired", reason="key-expired")
    if state.principal is None:
        raise SignatureRejected("the key's user or tenant is disabled", reason="user-disabled")
    return state.principal


def verify_cached(*, message: Message, body: bytes) -> tuple[Verified, Principal] | None:
    """The verified signature and its user, when the request has the common shape and its
    key is cached; else None. Raises SignatureRejected (only for what is certain)."""
    found: list[Principal] = []

    def lookup(key_id: str) -> bytes:
        state = service.cached(key_id=key_id)
        if state is None:
            raise _NotCached
        found.append(principal_of(state, key_id))
        return state.secret

    try:
        verified = verify_common(message=message, body=body, lookup=lookup)
    except _NotCached:
        return None
    return None if verified is None else (verified, found[0])


def verify_request(
    *, sessions: sessionmaker[Session], settings: Settings, message: Message, body: bytes
) -> tuple[Verified, Principal]:
    """The verified signature and the user whose API key made it. Raises
    SignatureRejected with a reason: ``principal_of``'s or ``signing.verify``'s."""
    with sessions() as db:
        found: list[Principal] = []

        def lookup(key_id: str) -> bytes:
            state = service.resolve(db=db, key_id=key_id, settings=settings)
            found.append(principal_of(state, key_id))
            assert state is not None  # noqa: S101  principal_of refused None
            return state.secret

        verified = verify(message=message, body=body, lookup=lookup)
        return verified, found[0]


async def authenticate(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    nonces: NonceLedger,
    lockout: Lockout,
    message: Message,
    body: bytes,
    source: str | None,
) -> Principal:
    """The user whose API key signed the request, its nonce now used. Raises
    TooManyAttempts while the key id or ``source`` is locked out, else SignatureRejected:
    ``verify_request``'s reasons, or replayed-nonce (counted, ``lockout``)."""
    key_id, keys = keys_of(message=message, source=source)
    await lockout.check(keys=keys)
    try:
        checked = verify_cached(message=message, body=body)
        if checked is None:
            request = partial(verify_request, sessions=sessions, settings=settings)
            checked = await run_in_threadpool(partial(request, message=message, body=body))
        verified, principal = checked
        first = await nonces.claim(
            key_id=verified.key_id, nonce=verified.nonce, created=verified.created
        )
        if not first:
            raise SignatureRejected("this nonce was used before", reason="replayed-nonce")
    except SignatureRejected as e:
        await lockout.fail(keys=keys, key_id=key_id, reason=e.reason, source=source)
        raise
    return principal
