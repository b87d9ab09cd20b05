"""Tables of the base layer: installation identity, tenants, users, tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenantfusion.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class Role(enum.StrEnum):
    platform_admin = "platform_admin"
    tenant_admin = "tenant_admin"
    member = "member"


class Installation(Base):
    """This installation's identity; its id tags every object it creates in a pool."""

    __tablename__ = "installation"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Tenant(IdMixin, TimestampMixin, Base):
    """An organisation using the platform."""

    __tablename__ = "tenant"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    users: Mapped[list[User]] = relationship(back_populates="tenant", passive_deletes=True)


class User(IdMixin, TimestampMixin, Base):
    """A person or program; belongs to exactly one tenant, or none for platform admins."""

    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("scope", "username"),)

    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    #: ``tenant_id`` or ``"platform"``: usernames are unique within a scope.
    scope: Mapped[str] = mapped_column(String(36))
    username: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=32))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    tenant: Mapped[Tenant | None] = relationship(back_populates="users")


class Token(IdMixin, Base):
    """A bearer token, stored only as its SHA-256 digest."""

    __tablename__ = "token"

    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """Failed logins counted per key (``user:<tenant>:<name>`` or ``addr:<ip>``), shared by
    every replica through the database."""

    __tablename__ = "login_failure"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
