"""The tenant's identity in a pool: a Keystone application credential of its pool user.

The credential is restricted to the tenant's project and the ``member`` role (never
``unrestricted``), may expire, and is stored encrypted. Keystone lets only the user
create its own application credentials, so the pool user keeps a password, used only
here, to mint and rotate them; the pool's admin credential is not involved.

Rotation creates the new credential (name and secret stored before it exists), proves
it obtains a token, switches the mapping to it, and only then deletes the old one: a
crash at any point leaves a working credential and a rotation that resumes.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from tenantfusion.config import Settings
from tenantfusion.crypto import decrypt_json, encrypt_json
from tenantfusion.db import utcnow
from tenantfusion.errors import StepFailed
from tenantfusion.faults import crash_point
from tenantfusion.mapping.models import AuthKind, Mapping
from tenantfusion.pools.drivers.base import AppCredentialAuth, PoolAuth, RemoteAppCredential

MEMBER_ROLE = "member"


def is_due(mapping: Mapping, *, settings: Settings, now: datetime | None = None) -> bool:
    """Whether the mapping should get a (new) application credential: it still runs on
    the password of an older release, or its credential expires within the renew window."""
    if mapping.auth_kind is AuthKind.password:
        return True
    if mapping.auth_kind is AuthKind.password_fallback or not mapping.app_credential_expires_at:
        return False
    renew = timedelta(seconds=settings.app_credential_renew_seconds)
    return mapping.app_credential_expires_at - (now or utcnow()) <= renew


def password_auth(
    mapping: Mapping, *, auth_url: str, domain: str, region: str | None, settings: Settings
) -> PoolAuth:
    """The pool user's password credential, scoped to the tenant's project."""
    assert mapping.credential
    return PoolAuth(
        auth_url=auth_url,
        username=mapping.user_name,
        password=decrypt_json(mapping.credential, settings=settings)["password"],
        project_id=mapping.project_remote_id,
        user_domain_name=domain,
        region_name=region,
    )


def app_credential_auth(
    mapping: Mapping, *, auth_url: str, region: str | None, settings: Settings
) -> AppCredentialAuth | None:
    """The mapping's application credential, or None when it has none."""
    if mapping.auth_kind is not AuthKind.application_credential or not mapping.app_credential:
        return None
    stored = decrypt_json(mapping.app_credential, settings=settings)
    return AppCredentialAuth(
        auth_url=auth_url, credential_id=stored["id"], secret=stored["secret"], region_name=region
    )


def _expiry(settings: Settings) -> datetime | None:
    ttl = settings.app_credential_ttl_seconds
    return utcnow().replace(microsecond=0) + timedelta(seconds=ttl) if ttl > 0 else None


def _check_restricted(
    found: RemoteAppCredential, mapping: Mapping, pool: str, implied: tuple[str, ...]
) -> None:
    """Keystone lists the roles ``member`` implies (``reader``) among the credential's."""
    if (
        found.unrestricted
        or MEMBER_ROLE not in found.roles
        or set(found.roles) - {MEMBER_ROLE, *implied}
        or found.project_id != mapping.project_remote_id
    ):
        raise StepFailed(
            f"application credential {found.name} in pool {pool} is not restricted to "
            f"{MEMBER_ROLE} on project {mapping.project_remote_id} (roles {list(found.roles)}, "
            f"project {found.project_id}, unrestricted {found.unrestricted})",
            pool=pool,
        )


def _forget_app_credential(mapping: Mapping) -> None:
    mapping.app_credential = mapping.app_credential_next = None
    mapping.app_credential_id = mapping.app_credential_expires_at = None


def _switch_to_password(mapping: Mapping) -> None:
    mapping.auth_kind = AuthKind.password_fallback
    _forget_app_credential(mapping)


def user_replaced(mapping: Mapping) -> None:
    """The pool user was created again or adopted under another id: its application
    credentials were the old user's and died with it. The mapping runs on the password
    until the credential step issues a new one (it is due from now)."""
    if mapping.auth_kind is AuthKind.application_credential:
        mapping.auth_kind = AuthKind.password
    _forget_app_credential(mapping)


def rotate(*, mapping: Mapping, driver: Any, domain: str, settings: Settings, save: Any) -> None:
    """Give the mapping a new application credential and delete every older one.

    ``save`` commits (and proves the caller still holds the mapping's lease). Falls back
    to the password user when the pool's Keystone has no application credentials.
    Raises StepFailed when Keystone did not restrict the credential as asked, a PoolError
    from the pool."""
    m = mapping
    assert m.project_remote_id and m.user_remote_id
    user = driver.tenant_session(
        password_auth(
            m,
            auth_url=driver.auth.auth_url,
            domain=domain,
            region=driver.auth.region_name,
            settings=settings,
        )
    )
    existing = driver.list_application_credentials(session=user, user_id=m.user_remote_id)
    if existing is None:
        _switch_to_password(m)
        save()
        return
    if m.app_credential_next is None:
        name = f"{m.user_name}-{secrets.token_hex(4)}"
        m.app_credential_next = encrypt_json(
            {"name": name, "secret": secrets.token_urlsafe(48)}, settings=settings
        )
        save()
    pending = decrypt_json(m.app_credential_next, settings=settings)
    found = next((c for c in existing if c.name == pending["name"]), None)
    if found is None:
        found = driver.create_application_credential(
            session=user,
            user_id=m.user_remote_id,
            name=pending["name"],
            secret=pending["secret"],
            roles=(MEMBER_ROLE,),
            expires_at=_expiry(settings),
        )
    crash_point("mapping.rotate.after_create")
    _check_restricted(found, m, driver.pool, driver.implied_roles(role=MEMBER_ROLE))
    auth = AppCredentialAuth(
        auth_url=driver.auth.auth_url,
        credential_id=found.remote_id,
        secret=pending["secret"],
        region_name=driver.auth.region_name,
    )
    driver.authenticate(driver.app_credential_session(auth))  # prove it before using it
    m.app_credential = encrypt_json(
        {"id": found.remote_id, "name": found.name, "secret": pending["secret"]},
        settings=settings,
    )
    m.app_credential_next = None
    m.app_credential_id = found.remote_id
    m.app_credential_expires_at = found.expires_at
    m.app_credential_rotated_at = utcnow()
    m.auth_kind = AuthKind.application_credential
    save()
    crash_point("mapping.rotate.after_switch")
    for old in existing:  # the one replaced, and leftovers of interrupted rotations
        if old.remote_id != found.remote_id and old.name.startswith(f"{m.user_name}-"):
            driver.delete_application_credential(
                session=user, user_id=m.user_remote_id, remote_id=old.remote_id
            )
