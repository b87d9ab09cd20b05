"""The tenant ↔ pool mapping: one row per (tenant, pool), with remote ids and a lease."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base, IdMixin, TimestampMixin, UTCDateTime


class MappingState(enum.StrEnum):
    pending = "pending"
    provisioning = "provisioning"
    active = "active"
    failed = "failed"
    deleting = "deleting"


class AuthKind(enum.StrEnum):
    """How the tenant's scoped session authenticates in the pool."""

    #: The pool user's password (mappings made before application credentials; upgraded
    #: on the next ensure or rotate).
    password = "password"  # noqa: S105  the name of an auth kind, not a password
    #: A Keystone application credential restricted to the project and ``member``.
    application_credential = "application_credential"
    #: The pool's Keystone has no application credentials API: the password user stays.
    password_fallback = "password_fallback"  # noqa: S105  an auth kind's name


class Mapping(IdMixin, TimestampMixin, Base):
    """A tenant's project and least-privilege user in one pool."""

    __tablename__ = "mapping"
    __table_args__ = (UniqueConstraint("tenant_id", "pool_id"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    pool_id: Mapped[str] = mapped_column(ForeignKey("pool.id", ondelete="RESTRICT"), index=True)
    state: Mapped[MappingState] = mapped_column(
        Enum(MappingState, native_enum=False, length=16), default=MappingState.pending
    )
    reason: Mapped[str] = mapped_column(String(1000), default="")
    #: Name of the last onboarding step that finished; a resumed ensure starts after it.
    last_step: Mapped[str] = mapped_column(String(64), default="")
    project_name: Mapped[str] = mapped_column(String(128))
    project_remote_id: Mapped[str | None] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(128))
    user_remote_id: Mapped[str | None] = mapped_column(String(64))
    #: MultiFernet token holding the pool user's password; written before the user exists.
    credential: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    auth_kind: Mapped[AuthKind] = mapped_column(
        Enum(AuthKind, native_enum=False, length=32), default=AuthKind.password
    )
    #: MultiFernet token of the application credential in use: ``{id, name, secret}``.
    app_credential: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    #: MultiFernet token of the credential being created by a rotation (stored before it
    #: exists, so a crashed rotation resumes with the same name and secret).
    app_credential_next: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    app_credential_id: Mapped[str | None] = mapped_column(String(64))
    app_credential_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    app_credential_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_adopted: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
