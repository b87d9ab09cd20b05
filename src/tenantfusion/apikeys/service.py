"""API keys: create (secret shown once, stored encrypted), list, revoke; resolve a key id
for signature verification, and store nonces (each once)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, or_, select
from sqlalchemy.orm import Session

from tenantfusion.apikeys.models import ApiKey, SignatureNonce
from tenantfusion.apikeys.schemas import ApiKeyCreate
from tenantfusion.apikeys.signing import WINDOW
from tenantfusion.audit import service as audit_service
from tenantfusion.config import Settings
from tenantfusion.crypto import decrypt_json, encrypt_json
from tenantfusion.db import dialect_insert, utcnow
from tenantfusion.errors import NotFound
from tenantfusion.platform.models import Tenant, User
from tenantfusion.platform.principal import Principal

KEY_PREFIX = "tfk_"
SECRET_PREFIX = "tfs_"  # noqa: S105  the visible prefix of generated secrets, not one
#: A resolved key is reused this long in a process; a revocation elsewhere shows within it.
CACHE_SECONDS = 1.0
PURGE_SECONDS = 60.0
#: A nonce is kept this long after its signature's ``created``: past it, the signature
#: is refused as expired anyway.
NONCE_KEPT = 2 * WINDOW


@dataclass(frozen=True)
class KeyState:
    """What verification needs to know about a key id."""

    secret: bytes
    #: None when the key's user or tenant is disabled.
    principal: Principal | None
    expires_at: datetime | None
    revoked_at: datetime | None


_cache: dict[str, tuple[KeyState, float]] = {}
_nonce_inserts: dict[str, Any] = {}
_last_purge = 0.0


def create(
    *, db: Session, actor: Principal, data: ApiKeyCreate, settings: Settings
) -> tuple[ApiKey, str]:
    """A new key for the caller; returns it with its secret (never stored in clear)."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        key_id=KEY_PREFIX + secrets.token_urlsafe(12),
        user_id=actor.user_id,
        name=data.name,
        secret=encrypt_json({"secret": secret}, settings=settings),
        expires_at=utcnow() + timedelta(days=data.expires_in_days)
        if data.expires_in_days
        else None,
    )
    db.add(key)
    db.flush()
    audit_service.record(
        db=db,
        actor=actor,
        action="api_key.create",
        target_kind="api_key",
        target_id=key.key_id,
        tenant_id=actor.tenant_id,
        detail={"name": key.name},
    )
    return key, secret


def list_(*, db: Session, actor: Principal) -> list[ApiKey]:
    """The caller's keys, newest first."""
    return list(
        db.scalars(
            select(ApiKey).where(ApiKey.user_id == actor.user_id).order_by(ApiKey.created_at.desc())
        )
    )


def get_or_raise(*, db: Session, actor: Principal, ref: str) -> ApiKey:
    """One of the caller's keys by id or key id; raises NotFound."""
    key = db.scalar(
        select(ApiKey).where(
            ApiKey.user_id == actor.user_id, or_(ApiKey.id == ref, ApiKey.key_id == ref)
        )
    )
    if key is None:
        raise NotFound(f"api key {ref} not found")
    return key


def revoke(*, db: Session, actor: Principal, key: ApiKey) -> ApiKey:
    """Revoke a key at once (in this process; other replicas within CACHE_SECONDS)."""
    _cache.pop(key.key_id, None)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit_service.record(
            db=db,
            actor=actor,
            action="api_key.revoke",
            target_kind="api_key",
            target_id=key.key_id,
            tenant_id=actor.tenant_id,
        )
    db.flush()
    return key


def cached(*, key_id: str) -> KeyState | None:
    """The state of a key id if this process resolved it less than CACHE_SECONDS ago."""
    hit = _cache.get(key_id)
    return hit[0] if hit is not None and hit[1] > time.monotonic() else None


def resolve(*, db: Session, key_id: str, settings: Settings) -> KeyState | None:
    """The state of a key id (cached CACHE_SECONDS), or None if unknown."""
    hit = cached(key_id=key_id)
    if hit is not None:
        return hit
    row = db.execute(
        select(ApiKey, User, Tenant.is_enabled)
        .join(User, User.id == ApiKey.user_id)
        .outerjoin(Tenant, Tenant.id == User.tenant_id)
        .where(ApiKey.key_id == key_id)
    ).first()
    if row is None:
        return None
    key, user, tenant_enabled = row
    enabled = user.is_enabled and (user.tenant_id is None or bool(tenant_enabled))
    state = KeyState(
        secret=decrypt_json(key.secret, settings=settings)["secret"].encode(),
        principal=Principal(user.id, user.username, user.role, user.tenant_id) if enabled else None,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )
    _cache[key_id] = (state, time.monotonic() + CACHE_SECONDS)
    return state


def purge_nonces(*, db: Connection) -> None:
    """Drop the nonces kept past NONCE_KEPT, at most once per PURGE_SECONDS."""
    global _last_purge
    if time.monotonic() - _last_purge > PURGE_SECONDS:
        _last_purge = time.monotonic()
        db.execute(delete(SignatureNonce).where(SignatureNonce.expires_at < utcnow()))


def store_nonces(
    *, db: Connection, nonces: list[tuple[str, str, datetime]]
) -> set[tuple[str, str]]:
    """Insert (key id, nonce, created) rows that are not there yet; returns the (key id,
    nonce) pairs inserted now. Also drops expired nonces (``purge_nonces``). ``db``
    autocommits (``nonces.NonceLedger``)."""
    purge_nonces(db=db)
    rows = [
        {"key_id": key_id, "nonce": nonce, "expires_at": created + NONCE_KEPT}
        for key_id, nonce, created in nonces
    ]
    statement = _nonce_inserts.get(db.dialect.name)
    if statement is None:  # built once: constructing it costs more than running it
        statement = _nonce_inserts[db.dialect.name] = (
            dialect_insert(db, SignatureNonce)
            .on_conflict_do_nothing(index_elements=["key_id", "nonce"])
            .returning(SignatureNonce.key_id, SignatureNonce.nonce)
        )
    return {(key_id, nonce) for key_id, nonce in db.execute(statement, rows)}
