"""API keys and the nonces their signatures have used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base, IdMixin, UTCDateTime, utcnow


class ApiKey(IdMixin, Base):
    """A user's signing key. ``key_id`` is public; the secret is shown once.

    The secret is stored as a MultiFernet token, not a hash: verifying an HMAC needs the
    shared secret itself, so a one-way hash could not check a signature.
    """

    __tablename__ = "api_key"

    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str] = mapped_column(Text, info={"encrypted": True})
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class SignatureNonce(Base):
    """A nonce seen in a valid signature; the primary key refuses its second use.

    Kept until the signature could no longer pass the ``created`` window, in the shared
    database so every replica refuses a replay.
    """

    __tablename__ = "signature_nonce"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
