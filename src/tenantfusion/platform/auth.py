"""Bearer tokens: issue on password login, validate on every request, revoke."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion import coherence
from tenantfusion.audit import service as audit_service
from tenantfusion.config import Settings
from tenantfusion.db import utcnow
from tenantfusion.errors import NotAuthenticated
from tenantfusion.platform import throttle, token_cache
from tenantfusion.platform.models import Tenant, Token, User
from tenantfusion.platform.principal import Principal
from tenantfusion.platform.schemas import TokenCreate
from tenantfusion.platform.security import new_token, token_digest, verify_password
from tenantfusion.platform.service import PLATFORM_SCOPE, get_tenant_by_name_or_id

BAD_LOGIN = "wrong tenant, username or password"


def issue_token(
    *, db: Session, tenant_ref: str | None, username: str, password: str, ttl_seconds: int
) -> tuple[str, Token, User, Tenant | None]:
    """Check a password and issue a token. Raises NotAuthenticated, never saying which part
    was wrong."""
    tenant = get_tenant_by_name_or_id(db=db, ref=tenant_ref) if tenant_ref else None
    scope = tenant.id if tenant else (None if tenant_ref else PLATFORM_SCOPE)
    user = (
        db.scalar(select(User).where(User.scope == scope, User.username == username))
        if scope
        else None
    )
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_enabled or (tenant and not tenant.is_enabled):
        raise NotAuthenticated(BAD_LOGIN)
    raw, token = mint_token(db=db, user=user, ttl_seconds=ttl_seconds)
    return raw, token, user, tenant


def mint_token(*, db: Session, user: User, ttl_seconds: int) -> tuple[str, Token]:
    """A new token for a user whose credential was checked (audited; flushes)."""
    raw = new_token()
    token = Token(
        digest=token_digest(raw),
        user_id=user.id,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )
    db.add(token)
    db.flush()
    audit_service.record(
        db=db,
        actor=Principal(user.id, user.username, user.role, user.tenant_id),
        action="token.issue",
        target_kind="token",
        target_id=token.id,
        tenant_id=user.tenant_id,
    )
    return raw, token


def login(
    *, sessions: sessionmaker[Session], data: TokenCreate, source: str | None, settings: Settings
) -> tuple[str, Token, User, Tenant | None]:
    """``issue_token`` behind the login throttle: raises TooManyAttempts while the user or
    the source address is locked out; a failure is counted in its own transaction."""
    tenant_ref, username = data.tenant, data.username
    keys = throttle.login_keys(tenant_ref=tenant_ref, username=username, source=source)
    with sessions() as db:
        throttle.check(db=db, keys=keys)
    try:
        with sessions.begin() as db:
            issued = issue_token(
                db=db,
                tenant_ref=tenant_ref,
                username=username,
                password=data.password.get_secret_value(),
                ttl_seconds=settings.token_ttl_seconds,
            )
            throttle.succeed(db=db, user_key=keys[0])
    except NotAuthenticated:
        with sessions.begin() as db:
            throttle.fail(db=db, keys=keys, settings=settings)
        raise
    return issued


def authenticate(*, db: Session, raw_token: str) -> Principal:
    """The principal behind a bearer token. Raises NotAuthenticated for unknown, expired or
    revoked tokens, and for disabled users or tenants."""
    digest = token_digest(raw_token)
    epoch = coherence.current()  # before the read: a later change ends the cached entry
    row = db.execute(
        select(User.id, User.username, User.role, User.tenant_id, Token.expires_at)
        .join(Token, Token.user_id == User.id)
        .outerjoin(Tenant, Tenant.id == User.tenant_id)
        .where(
            Token.digest == digest,
            Token.revoked_at.is_(None),
            Token.expires_at > utcnow(),
            User.is_enabled.is_(True),
            (User.tenant_id.is_(None)) | (Tenant.is_enabled.is_(True)),
        )
    ).first()
    if row is None:
        raise NotAuthenticated("the token is unknown, expired or revoked")
    principal = Principal(
        user_id=row.id, username=row.username, role=row.role, tenant_id=row.tenant_id
    )
    token_cache.remember(digest, principal, expires_at=row.expires_at, epoch=epoch)
    return principal


def revoke_token(*, db: Session, raw_token: str) -> None:
    """Revoke one token (logout; every cache of it ends with the commit, ``coherence``)."""
    db.execute(
        update(Token)
        .where(Token.digest == token_digest(raw_token), Token.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
