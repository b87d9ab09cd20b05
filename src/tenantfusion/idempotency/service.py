"""Claim, finish, release and replay idempotency keys (the store behind the guard)."""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenantfusion.db import utcnow
from tenantfusion.errors import Conflict, InvalidInput
from tenantfusion.idempotency.models import IdempotencyKey, KeyState

#: The key of the request being handled (its stored id): a create records it on the
#: routing record, so a retry resumes the first attempt's record instead of a new one.
CURRENT: ContextVar[str | None] = ContextVar("tenantfusion_idempotency_key", default=None)
#: Expired keys removed per claim (cleanup rides along with writes, bounded).
PURGE_BATCH = 100


class KeyInProgress(Conflict):
    type, title = "idempotency-in-progress", "A request with this Idempotency-Key is running"


class KeyReused(InvalidInput):
    type, title = "idempotency-key-reused", "Idempotency-Key reused with another request"


@dataclass(frozen=True)
class Answer:
    """A finished request's stored response."""

    status_code: int
    content_type: str
    body: bytes


def key_id(*, scope: str, key: str) -> str:
    """The stored id of ``key`` sent by the caller ``scope`` (tenant, or platform user)."""
    return hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()


def fingerprint(*, method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and body."""
    digest = hashlib.sha256(f"{method} {path}\0".encode())
    digest.update(body)
    return digest.hexdigest()


def claim(
    *, db: Session, key: str, fingerprint: str, lock_seconds: float, ttl_seconds: float
) -> Answer | None:
    """Own ``key`` for this attempt (None), or the stored answer of an earlier one.

    Raises KeyReused for another request under the same key, KeyInProgress while an
    earlier attempt still holds it. An attempt that died holding the key loses it when
    its lock runs out, and the retry takes over. Commits.
    """
    now = utcnow()
    db.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.id.in_(
                select(IdempotencyKey.id)
                .where(IdempotencyKey.expires_at < now)
                .limit(PURGE_BATCH)
                .scalar_subquery()
            )
        )
    )
    db.add(
        IdempotencyKey(
            id=key,
            fingerprint=fingerprint,
            state=KeyState.in_progress,
            locked_until=now + timedelta(seconds=lock_seconds),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    try:
        db.commit()
        return None
    except IntegrityError:
        db.rollback()
    row = db.get(IdempotencyKey, key, populate_existing=True)
    if row is None:  # removed between our insert and this read: one more try
        return claim(
            db=db,
            key=key,
            fingerprint=fingerprint,
            lock_seconds=lock_seconds,
            ttl_seconds=ttl_seconds,
        )
    if row.fingerprint != fingerprint:
        raise KeyReused(
            "this Idempotency-Key was sent with another request (method, path or body); "
            "use a new key for a new request"
        )
    if row.state == KeyState.done:
        return Answer(row.status_code or 200, row.content_type or "", row.body or b"")
    taken = db.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == key,
            IdempotencyKey.state == KeyState.in_progress,
            IdempotencyKey.locked_until < now,
        )
        .values(locked_until=now + timedelta(seconds=lock_seconds))
        .execution_options(synchronize_session=False)
    )
    db.commit()
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return None  # the earlier attempt died: this one resumes its work
    raise KeyInProgress("a request with this Idempotency-Key is still running; retry shortly")


def renew(*, db: Session, key: str, lock_seconds: float) -> None:
    """Extend the lock of a key whose request still runs (commits)."""
    db.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == key, IdempotencyKey.state == KeyState.in_progress)
        .values(locked_until=utcnow() + timedelta(seconds=lock_seconds))
        .execution_options(synchronize_session=False)
    )
    db.commit()


def finish(*, db: Session, key: str, answer: Answer) -> None:
    """Store the answer of the attempt that owned ``key`` (commits)."""
    db.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == key)
        .values(
            state=KeyState.done,
            status_code=answer.status_code,
            content_type=answer.content_type,
            body=answer.body,
        )
    )
    db.commit()


def release(*, db: Session, key: str) -> None:
    """Forget an attempt that failed on our side (5xx): a retry runs the request again,
    resuming whatever the failed attempt left (commits)."""
    db.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.id == key, IdempotencyKey.state == KeyState.in_progress
        )
    )
    db.commit()
