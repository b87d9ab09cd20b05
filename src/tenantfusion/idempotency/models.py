"""Stored answers of requests sent with an Idempotency-Key."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base, UTCDateTime, utcnow


class KeyState(enum.StrEnum):
    in_progress = "in_progress"
    done = "done"


class IdempotencyKey(Base):
    """One request key of one caller: ``id`` hashes the caller's scope and the key."""

    __tablename__ = "idempotency_key"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: hash of method, path and body: the same key with another request is refused
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=KeyState.in_progress)
    #: while ``in_progress``: until when the first attempt owns the key (a crashed
    #: attempt's key is taken over by a retry after this)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
