"""The signature path of principal resolution: a request signed with an API key."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.apikeys import service
from tenantfusion.apikeys.nonces import NonceLedger
from tenantfusion.apikeys.signing import Message, SignatureRejected, verify
from tenantfusion.config import Settings
from tenantfusion.db import utcnow
from tenantfusion.platform.principal import Principal


def authenticate(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    nonces: NonceLedger,
    message: Message,
    body: bytes,
) -> Principal:
    """The user whose API key signed the request. Raises SignatureRejected (401) with a
    reason: unknown-key, key-revoked, key-expired, user-disabled, or one of
    ``signing.verify``'s, or replayed-nonce."""
    with sessions() as db:
        found: list[Principal] = []

        def lookup(key_id: str) -> bytes:
            state = service.resolve(db=db, key_id=key_id, settings=settings)
            if state is None:
                raise SignatureRejected(f"unknown key id {key_id!r}", reason="unknown-key")
            if state.revoked_at is not None:
                raise SignatureRejected("the key was revoked", reason="key-revoked")
            if state.expires_at is not None and state.expires_at <= utcnow():
                raise SignatureRejected("the key expired", reason="key-expired")
            if state.principal is None:
                raise SignatureRejected(
                    "the key's user or tenant is disabled", reason="user-disabled"
                )
            found.append(state.principal)
            return state.secret

        verified = verify(message=message, body=body, lookup=lookup)
    if not nonces.claim(key_id=verified.key_id, nonce=verified.nonce, created=verified.created):
        raise SignatureRejected("this nonce was used before", reason="replayed-nonce")
    return found[0]
