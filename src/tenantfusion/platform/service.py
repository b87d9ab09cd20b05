"""Tenants and users: the base layer's own identities."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenantfusion.audit import service as audit_service
from tenantfusion.db import utcnow
from tenantfusion.errors import Conflict, InvalidInput, LastTenantAdmin, NotFound
from tenantfusion.platform.models import Installation, Role, Tenant, Token, User
from tenantfusion.platform.principal import Principal
from tenantfusion.platform.schemas import TenantCreate, TenantUpdate, UserCreate, UserUpdate
from tenantfusion.platform.security import hash_password

PLATFORM_SCOPE = "platform"


def get_tenant(*, db: Session, tenant_id: str) -> Tenant | None:
    """The tenant with this id, or None."""
    return db.get(Tenant, tenant_id)


def get_tenant_by_name_or_id(*, db: Session, ref: str) -> Tenant | None:
    """The tenant named ``ref`` or with id ``ref``, or None."""
    return db.scalar(select(Tenant).where((Tenant.name == ref) | (Tenant.id == ref)))


def get_tenant_or_raise(*, db: Session, tenant_id: str) -> Tenant:
    """The tenant; raises NotFound."""
    tenant = get_tenant(db=db, tenant_id=tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return tenant


def list_tenants(*, db: Session, limit: int, marker: str | None) -> list[Tenant]:
    """Tenants ordered by name, after ``marker`` (a tenant name)."""
    stmt = select(Tenant).order_by(Tenant.name).limit(limit)
    if marker:
        stmt = stmt.where(Tenant.name > marker)
    return list(db.scalars(stmt))


def create_tenant(*, db: Session, actor: Principal, data: TenantCreate) -> Tenant:
    """Create a tenant with its first tenant_admin. Raises Conflict on a taken name."""
    if db.scalar(select(Tenant.id).where(Tenant.name == data.name)):
        raise Conflict(f"tenant name {data.name!r} is taken")
    tenant = Tenant(name=data.name, description=data.description)
    db.add(tenant)
    try:
        db.flush()
    except IntegrityError as e:
        raise Conflict(f"tenant name {data.name!r} is taken") from e
    _add_user(
        db=db,
        tenant_id=tenant.id,
        username=data.admin.username,
        password=data.admin.password.get_secret_value(),
        role=Role.tenant_admin,
    )
    audit_service.record(
        db=db,
        actor=actor,
        action="tenant.create",
        target_kind="tenant",
        target_id=tenant.id,
        tenant_id=tenant.id,
        detail={"name": tenant.name},
    )
    return tenant


def update_tenant(*, db: Session, actor: Principal, tenant: Tenant, data: TenantUpdate) -> Tenant:
    """Rename, describe, enable or disable a tenant; disabling revokes its tokens."""
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] != tenant.name:
        if db.scalar(select(Tenant.id).where(Tenant.name == changes["name"])):
            raise Conflict(f"tenant name {changes['name']!r} is taken")
    for key, value in changes.items():
        setattr(tenant, key, value)
    if changes.get("is_enabled") is False:
        _revoke_tokens(db=db, user_ids=select(User.id).where(User.tenant_id == tenant.id))
    db.flush()
    audit_service.record(
        db=db,
        actor=actor,
        action="tenant.update",
        target_kind="tenant",
        target_id=tenant.id,
        tenant_id=tenant.id,
        detail=changes,
    )
    return tenant


def delete_tenant(*, db: Session, actor: Principal, tenant: Tenant) -> None:
    """Delete a tenant nothing refers to any more (``mapping.teardown`` checks what is left
    first). Raises Conflict when a mapping or record appeared meanwhile."""
    audit_service.record(
        db=db,
        actor=actor,
        action="tenant.delete",
        target_kind="tenant",
        target_id=tenant.id,
        tenant_id=tenant.id,
        detail={"name": tenant.name},
    )
    db.delete(tenant)
    try:
        db.flush()
    except IntegrityError as e:
        raise Conflict(f"tenant {tenant.name} is still referred to: retry the delete") from e


def _add_user(
    *, db: Session, tenant_id: str | None, username: str, password: str, role: Role
) -> User:
    scope = tenant_id or PLATFORM_SCOPE
    if db.scalar(select(User.id).where(User.scope == scope, User.username == username)):
        raise Conflict(f"username {username!r} is taken")
    user = User(
        tenant_id=tenant_id,
        scope=scope,
        username=username,
        password_hash=hash_password(password),
        role=role,
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError as e:
        raise Conflict(f"username {username!r} is taken") from e
    return user


def create_platform_admin(*, db: Session, username: str, password: str) -> User:
    """Create a platform administrator. Raises Conflict on a taken username."""
    return _add_user(
        db=db, tenant_id=None, username=username, password=password, role=Role.platform_admin
    )


def create_user(*, db: Session, actor: Principal, tenant: Tenant, data: UserCreate) -> User:
    """Add a user to a tenant. Raises Conflict on a taken username, InvalidInput on a bad role."""
    if data.role is Role.platform_admin:
        raise InvalidInput("tenant users cannot be platform_admin", field="role")
    user = _add_user(
        db=db,
        tenant_id=tenant.id,
        username=data.username,
        password=data.password.get_secret_value(),
        role=data.role,
    )
    audit_service.record(
        db=db,
        actor=actor,
        action="user.create",
        target_kind="user",
        target_id=user.id,
        tenant_id=tenant.id,
        detail={"username": user.username, "role": user.role.value},
    )
    return user


def get_user_or_raise(*, db: Session, tenant: Tenant, user_id: str) -> User:
    """A user of this tenant; raises NotFound."""
    user = db.get(User, user_id)
    if user is None or user.tenant_id != tenant.id:
        raise NotFound(f"user {user_id} not found")
    return user


def get_user_by_id_or_raise(*, db: Session, user_id: str) -> User:
    """Any user by id; raises NotFound."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def list_users(*, db: Session, tenant: Tenant, limit: int, marker: str | None) -> list[User]:
    """A tenant's users ordered by username, after ``marker`` (a username)."""
    stmt = select(User).where(User.tenant_id == tenant.id).order_by(User.username).limit(limit)
    if marker:
        stmt = stmt.where(User.username > marker)
    return list(db.scalars(stmt))


def _other_enabled_admins(*, db: Session, user: User) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(User)
            .where(
                User.tenant_id == user.tenant_id,
                User.role == Role.tenant_admin,
                User.is_enabled.is_(True),
                User.id != user.id,
            )
        )
        or 0
    )


def update_user(*, db: Session, actor: Principal, user: User, data: UserUpdate) -> User:
    """Change a user's password, role or enabled flag.

    Raises LastTenantAdmin when the change would leave the tenant without an enabled
    tenant_admin; a disabled user or a new password revokes the user's tokens.
    """
    changes = data.model_dump(exclude_unset=True)
    if changes.get("role") is Role.platform_admin:
        raise InvalidInput("tenant users cannot be platform_admin", field="role")
    loses_admin = user.role is Role.tenant_admin and (
        changes.get("role", Role.tenant_admin) is not Role.tenant_admin
        or changes.get("is_enabled") is False
    )
    if loses_admin and not _other_enabled_admins(db=db, user=user):
        raise LastTenantAdmin("the tenant would be left without an enabled tenant_admin")
    if data.password is not None:
        user.password_hash = hash_password(data.password.get_secret_value())
    if data.role is not None:
        user.role = data.role
    if data.is_enabled is not None:
        user.is_enabled = data.is_enabled
    if data.is_enabled is False or data.password is not None:
        _revoke_tokens(db=db, user_ids=[user.id])
    db.flush()
    audit_service.record(
        db=db,
        actor=actor,
        action="user.update",
        target_kind="user",
        target_id=user.id,
        tenant_id=user.tenant_id,
        detail={k: (v if k != "password" else "***") for k, v in changes.items()},
    )
    return user


def delete_user(*, db: Session, actor: Principal, user: User) -> None:
    """Delete a user. Raises LastTenantAdmin for the last enabled tenant_admin."""
    if (
        user.role is Role.tenant_admin
        and user.is_enabled
        and not _other_enabled_admins(db=db, user=user)
    ):
        raise LastTenantAdmin("the tenant would be left without an enabled tenant_admin")
    audit_service.record(
        db=db,
        actor=actor,
        action="user.delete",
        target_kind="user",
        target_id=user.id,
        tenant_id=user.tenant_id,
        detail={"username": user.username},
    )
    db.delete(user)
    db.flush()


def _revoke_tokens(*, db: Session, user_ids: object) -> None:
    db.execute(
        update(Token)
        .where(Token.user_id.in_(user_ids), Token.revoked_at.is_(None))  # type: ignore[arg-type]
        .values(revoked_at=utcnow())
    )


_installation_ids: dict[str, str] = {}


def installation_id(*, db: Session) -> str:
    """This installation's id: written once by the first migration, shared by every replica."""
    url = str(db.get_bind().engine.url)
    if url not in _installation_ids:
        value = db.scalar(select(Installation.id).order_by(Installation.created_at).limit(1))
        if value is None:
            raise RuntimeError("no installation row: run the migrations (tenantfusion migrate)")
        _installation_ids[url] = value
    return _installation_ids[url]
