"""An API key presented whole (key id + secret) instead of a signature: how the OpenStack
facade's Keystone takes Keystone's ``application_credential`` method. Throttled and
audited exactly like rejected signatures (``apikeys.lockout``); a good key gets a
platform token of its user, as a password login would."""

from __future__ import annotations

import hmac

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.apikeys import service
from tenantfusion.apikeys.auth import principal_of
from tenantfusion.apikeys.lockout import counters, record_failure
from tenantfusion.apikeys.signing import SignatureRejected
from tenantfusion.config import Settings
from tenantfusion.errors import NotAuthenticated
from tenantfusion.platform import auth as auth_service
from tenantfusion.platform import throttle
from tenantfusion.platform.models import Token, User

BAD_CREDENTIAL = "wrong application credential id or secret"  # noqa: S105  a message


def login(
    *,
    sessions: sessionmaker[Session],
    key_id: str,
    secret: str,
    source: str | None,
    settings: Settings,
) -> tuple[str, Token, User]:
    """A new token for the key's user. Raises TooManyAttempts while the key id or the
    source address is locked out, NotAuthenticated (never saying why) otherwise."""
    keys = counters(key_id=key_id, source=source)
    with sessions() as db:
        throttle.check(db=db, keys=keys)
        state = service.resolve(db=db, key_id=key_id, settings=settings)
    try:
        principal = principal_of(state, key_id)
        assert state is not None  # noqa: S101  principal_of refused None
        if not hmac.compare_digest(state.secret, secret.encode()):
            raise SignatureRejected("the secret does not match", reason="bad-secret")
    except SignatureRejected as e:
        record_failure(sessions, settings, keys, key_id, e.reason, source)
        raise NotAuthenticated(BAD_CREDENTIAL) from None
    with sessions.begin() as db:
        user = db.get(User, principal.user_id)
        if user is None:
            raise NotAuthenticated(BAD_CREDENTIAL)
        raw, token = auth_service.mint_token(
            db=db, user=user, ttl_seconds=settings.token_ttl_seconds
        )
        db.expunge_all()
    return raw, token, user
