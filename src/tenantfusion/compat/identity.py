"""The Keystone v3 subset: platform logins as Keystone tokens, the catalog of pools.

Tokens are the platform's own bearer tokens (the same row, digest and revocation as
``POST /v1/auth/tokens``), so the v1 API and the facade share sessions and RBAC. See the
package docstring for how tenants, users and projects map onto Keystone's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.apikeys import login as apikeys_login
from tenantfusion.compat.schemas import Auth, DomainRef
from tenantfusion.config import Settings
from tenantfusion.errors import NotAuthenticated, NotFound
from tenantfusion.platform import auth as auth_service
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.models import Role, Tenant, Token, User
from tenantfusion.platform.principal import Principal
from tenantfusion.platform.schemas import TokenCreate
from tenantfusion.platform.security import token_digest
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.models import Pool

#: Facade service → (catalog type, service name, path after the pool, pool services that
#: offer it). The facade's endpoint for pool P is ``<base>/<service>/<P><path>``.
SERVICES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "compute": ("compute", "nova", "/v2.1", ("compute",)),
    "network": ("network", "neutron", "", ("network",)),
    "image": ("image", "glance", "", ("image",)),
    "volume": ("block-storage", "cinder", "/v3", ("block-storage", "volumev3")),
}
IDENTITY_PATH = "/identity/v3"
VERSION = "v3.14"
MEDIA_TYPE = "application/vnd.openstack.identity-v3+json"


@dataclass(frozen=True)
class Issued:
    """A valid platform token and whose it is, as Keystone describes tokens."""

    raw: str
    token: Token
    user: User
    tenant: Tenant
    methods: tuple[str, ...]


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _no_scope_but_tenant(auth: Auth, tenant: Tenant) -> None:
    """Raises NotAuthenticated unless the requested scope is the tenant's one project (or
    none: the user's default project, like Keystone)."""
    scope = auth.scope
    if scope is None or isinstance(scope, str):
        return
    if scope.domain is not None or scope.system is not None:
        raise NotAuthenticated("only project scope is offered: the tenant's project")
    project = scope.project
    if project is None:
        return
    named = (
        project.id == tenant.id
        if project.id is not None
        else project.name in (tenant.name, tenant.id)
        and (
            project.domain is None
            or project.domain.names(tenant_id=tenant.id, tenant_name=tenant.name)
        )
    )
    if not named:
        raise NotAuthenticated("the user has no role on the requested project")


def _tenant_login(
    *, sessions: sessionmaker[Session], auth: Auth, source: str | None, settings: Settings
) -> Issued:
    method = auth.identity.password
    if method is None:
        raise NotAuthenticated("the password method needs auth.identity.password")
    user_ref = method.user
    tenant_ref = (user_ref.domain or DomainRef()).id or (user_ref.domain or DomainRef()).name
    username = user_ref.name
    if user_ref.id is not None:
        with sessions() as db:
            known = db.get(User, user_ref.id)
            tenant_ref = known.tenant_id if known is not None else tenant_ref
            username = known.username if known is not None else user_ref.id
    if not tenant_ref or not username:
        raise NotAuthenticated("name the user with its domain (the tenant), or by id")
    raw, token, user, tenant = auth_service.login(
        sessions=sessions,
        data=TokenCreate(tenant=tenant_ref, username=username, password=method.user.password),
        source=source,
        settings=settings,
    )
    if tenant is None:
        raise NotAuthenticated(auth_service.BAD_LOGIN)
    return Issued(raw=raw, token=token, user=user, tenant=tenant, methods=("password",))


def _key_login(
    *, sessions: sessionmaker[Session], auth: Auth, source: str | None, settings: Settings
) -> Issued:
    """The application_credential method: a tenant user's API key (id and secret)."""
    method = auth.identity.application_credential
    assert method is not None  # noqa: S101  checked by the caller
    raw, token, user = apikeys_login.login(
        sessions=sessions,
        key_id=method.id,
        secret=method.secret.get_secret_value(),
        source=source,
        settings=settings,
    )
    with sessions() as db:
        tenant = db.get(Tenant, user.tenant_id) if user.tenant_id else None
        if tenant is None:  # a platform admin's key: the facade is for tenants
            auth_service.revoke_token(db=db, raw_token=raw)
            db.commit()
            raise NotAuthenticated(apikeys_login.BAD_CREDENTIAL)
        db.expunge(tenant)
    return Issued(
        raw=raw, token=token, user=user, tenant=tenant, methods=("application_credential",)
    )


def issue(
    *, sessions: sessionmaker[Session], auth: Auth, source: str | None, settings: Settings
) -> Issued:
    """``POST /auth/tokens``: a password login (behind the login throttle) or a tenant
    user's API key as an application credential (behind the signature throttle) issues a
    new platform token; the token method re-presents a valid one. Raises
    NotAuthenticated, TooManyAttempts."""
    methods = auth.identity.methods
    if "password" in methods:
        issued = _tenant_login(sessions=sessions, auth=auth, source=source, settings=settings)
    elif "application_credential" in methods and auth.identity.application_credential:
        issued = _key_login(sessions=sessions, auth=auth, source=source, settings=settings)
    elif "token" in methods and auth.identity.token is not None:
        with sessions() as db:
            found = validate(db=db, raw_token=auth.identity.token.id)
        issued = Issued(
            raw=found.raw,
            token=found.token,
            user=found.user,
            tenant=found.tenant,
            methods=("token",),
        )
    else:
        raise NotAuthenticated(
            "the facade offers the password, application_credential and token methods"
        )
    _no_scope_but_tenant(auth, issued.tenant)
    return issued


def validate(*, db: Session, raw_token: str) -> Issued:
    """A valid tenant token (unknown, expired, revoked, a disabled user or tenant, or a
    platform admin's: NotFound, as Keystone answers for a subject token)."""
    try:
        principal = auth_service.authenticate(db=db, raw_token=raw_token)
    except NotAuthenticated as e:
        raise NotFound("could not find token") from e
    token = db.scalar(select(Token).where(Token.digest == token_digest(raw_token)))
    tenant = platform_service.get_tenant(db=db, tenant_id=principal.tenant_id or "")
    if token is None or tenant is None:
        raise NotFound("could not find token")
    return Issued(raw=raw_token, token=token, user=token.user, tenant=tenant, methods=("token",))


def check_subject(*, caller: Principal, subject: Issued) -> None:
    """A caller sees its own tokens, and a tenant admin its tenant's. Raises NotFound."""
    if subject.user.id == caller.user_id:
        return
    if caller.role is Role.tenant_admin and caller.tenant_id == subject.tenant.id:
        return
    raise NotFound("could not find token")


def usable_pools(*, db: Session) -> list[Pool]:
    """The pools a tenant may use, as regions: enabled ones, by name."""
    return [p for p in pool_service.list_(db=db) if p.is_enabled]


def _entry(kind: str, name: str, urls: list[tuple[str, str]]) -> dict[str, Any]:
    endpoints = [
        {
            "id": hashlib.sha256(f"{kind}|{region}|{iface}".encode()).hexdigest()[:32],
            "interface": iface,
            "region": region,
            "region_id": region,
            "url": url,
        }
        for region, url in urls
        for iface in ("public", "internal")
    ]
    return {
        "id": hashlib.sha256(kind.encode()).hexdigest()[:32],
        "type": kind,
        "name": name,
        "endpoints": endpoints,
    }


def catalog(*, pools: list[Pool], base_url: str) -> list[dict[str, Any]]:
    """Keystone's catalog: every pool is a region; each service it offers points back at
    the facade (``<base>/compute/<pool>/v2.1``, ``/network/<pool>``, ``/image/<pool>``,
    ``/volume/<pool>/v3``); identity is the facade in every region."""
    entries = [_entry("identity", "keystone", [(p.name, base_url + IDENTITY_PATH) for p in pools])]
    for service, (kind, name, path, offered) in SERVICES.items():
        urls = [
            (p.name, f"{base_url}/{service}/{p.name}{path}")
            for p in pools
            if set(offered) & set(p.services)
        ]
        if urls:
            entries.append(_entry(kind, name, urls))
    return entries


def domain(tenant: Tenant) -> dict[str, str]:
    return {"id": tenant.id, "name": tenant.name}


def project(tenant: Tenant, *, base_url: str) -> dict[str, Any]:
    """The tenant as the one project its users scope to."""
    return {
        "id": tenant.id,
        "name": tenant.name,
        "domain_id": tenant.id,
        "parent_id": tenant.id,
        "description": tenant.description,
        "enabled": tenant.is_enabled,
        "is_domain": False,
        "tags": [],
        "links": {"self": f"{base_url}{IDENTITY_PATH}/projects/{tenant.id}"},
    }


def token_body(*, issued: Issued, pools: list[Pool], base_url: str) -> dict[str, Any]:
    """A project-scoped Keystone v3 token with its catalog."""
    role = issued.user.role
    roles = ["member", "reader"] + ([role.value] if role is not Role.member else [])
    return {
        "token": {
            "methods": list(issued.methods),
            "audit_ids": [hashlib.sha256(issued.token.id.encode()).hexdigest()[:22]],
            "issued_at": _iso(issued.token.created_at),
            "expires_at": _iso(issued.token.expires_at),
            "user": {
                "id": issued.user.id,
                "name": issued.user.username,
                "domain": domain(issued.tenant),
                "password_expires_at": None,
            },
            "project": {
                "id": issued.tenant.id,
                "name": issued.tenant.name,
                "domain": domain(issued.tenant),
            },
            "is_domain": False,
            "roles": [{"id": name, "name": name} for name in roles],
            "catalog": catalog(pools=pools, base_url=base_url),
        }
    }


def version(*, base_url: str) -> dict[str, Any]:
    """The v3 version document."""
    return {
        "id": VERSION,
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base_url}{IDENTITY_PATH}/"}],
        "media-types": [{"base": "application/json", "type": MEDIA_TYPE}],
    }
