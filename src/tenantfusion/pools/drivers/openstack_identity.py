"""The identity half of the OpenStack driver that acts as the tenant's pool user:
application credentials (created, listed and deleted by the user itself, as Keystone
requires) and the roles the user effectively holds (read as admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import session as ksa_session
from keystoneauth1.identity import v3

from tenantfusion.metrics import POOL_TOKEN_ISSUES
from tenantfusion.pools.drivers.base import AppCredentialAuth, PoolAuth, RemoteAppCredential
from tenantfusion.pools.drivers.openstack_admin import AdminAccess
from tenantfusion.pools.drivers.openstack_errors import translate


def pool_session(plugin: v3.Auth, *, timeout: float) -> ksa_session.Session:
    """A keystoneauth session into a pool that goes straight there, like the facade's
    client: proxy variables and netrc of the environment are not consulted (which
    requests would otherwise re-read from the environment on every call)."""
    session = ksa_session.Session(auth=plugin, timeout=timeout)
    session.session.trust_env = False
    return session


class _CountsTokens:
    """Counts every token a keystoneauth plugin obtains from Keystone (a metric)."""

    def __init__(self, *, pool: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pool = pool

    def get_auth_ref(self, session: ksa_session.Session, **kwargs: Any) -> Any:
        POOL_TOKEN_ISSUES.labels(pool=self._pool).inc()
        return super().get_auth_ref(session, **kwargs)  # type: ignore[misc]


class CountingPassword(_CountsTokens, v3.Password):
    """A v3 password plugin that counts the tokens it obtains."""


class CountingApplicationCredential(_CountsTokens, v3.ApplicationCredential):
    """A v3 application-credential plugin that counts the tokens it obtains."""


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _raise_for(answer: Any, method: str) -> None:
    """Raise keystoneauth's exception for an error answer fetched with raise_exc=False."""
    if answer.status_code >= 400:
        raise ksa_exc.from_response(answer, method, answer.url)


def _app_credential(raw: dict[str, Any]) -> RemoteAppCredential:
    return RemoteAppCredential(
        remote_id=raw["id"],
        name=raw["name"],
        project_id=raw.get("project_id"),
        roles=tuple(sorted(r["name"] for r in raw.get("roles") or [])),
        unrestricted=bool(raw.get("unrestricted")),
        expires_at=_parse_time(raw.get("expires_at")),
    )


class OpenStackIdentity(AdminAccess):
    """Mixed into OpenStackDriver."""

    pool: str
    auth: PoolAuth
    timeout: float

    @cached_property
    def _role_names(self) -> dict[str, str]:
        with translate(self.pool, "list_roles"):
            return {r.id: r.name for r in self.identity.roles()}

    def _identity(self, session: ksa_session.Session, method: str, path: str, **kw: Any) -> Any:
        """A call to Keystone's public endpoint with ``session``; 4xx/5xx raise."""
        endpoint = {
            "service_type": "identity",
            "interface": "public",
            "region_name": self.auth.region_name,
        }
        return session.request(path, method, endpoint_filter=endpoint, **kw)

    def list_project_roles(self, *, user_id: str) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        with translate(self.pool, "list_role_assignments"):
            for a in self.identity.role_assignments(user_id=user_id, effective=True):
                scope = a.scope or {}
                if "project" in scope:
                    where = scope["project"]["id"]
                elif "domain" in scope:
                    where = f"domain:{scope['domain']['id']}"
                else:
                    where = "system"
                name = self._role_names.get(a.role["id"], a.role["id"])
                if name not in result.setdefault(where, []):
                    result[where].append(name)
        return result

    def implied_roles(self, *, role: str) -> tuple[str, ...]:
        with translate(self.pool, "list_role_inferences"):
            rules = self._identity(self.admin_session, "GET", "/role_inferences").json()
        implies: dict[str, set[str]] = {}
        for rule in rules.get("role_inferences", []):
            prior = rule["prior_role"]["name"]
            implies.setdefault(prior, set()).update(r["name"] for r in rule["implies"])
        found: set[str] = set()
        todo = [role]
        while todo:
            for implied in implies.get(todo.pop(), set()) - found:
                found.add(implied)
                todo.append(implied)
        return tuple(sorted(found))

    def list_application_credentials(
        self, *, session: Any, user_id: str
    ) -> list[RemoteAppCredential] | None:
        path = f"/users/{user_id}/application_credentials"
        with translate(self.pool, "list_application_credentials"):
            answer = self._identity(session, "GET", path, raise_exc=False)
            if answer.status_code == 404:
                return None  # this Keystone predates application credentials
            _raise_for(answer, "GET")
        return [_app_credential(c) for c in answer.json()["application_credentials"]]

    def create_application_credential(
        self,
        *,
        session: Any,
        user_id: str,
        name: str,
        secret: str,
        roles: tuple[str, ...],
        expires_at: datetime | None,
    ) -> RemoteAppCredential:
        body = {
            "application_credential": {
                "name": name,
                "secret": secret,
                "description": "tenantfusion: the tenant's identity in this pool",
                "roles": [{"name": r} for r in roles],
                "unrestricted": False,
                "expires_at": expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
                if expires_at
                else None,
            }
        }
        path = f"/users/{user_id}/application_credentials"
        with translate(self.pool, "create_application_credential"):
            answer = self._identity(session, "POST", path, json=body)
        return _app_credential(answer.json()["application_credential"])

    def delete_application_credential(self, *, session: Any, user_id: str, remote_id: str) -> None:
        path = f"/users/{user_id}/application_credentials/{remote_id}"
        with translate(self.pool, "delete_application_credential"):
            answer = self._identity(session, "DELETE", path, raise_exc=False)
            if answer.status_code != 404:
                _raise_for(answer, "DELETE")

    def app_credential_session(self, auth: AppCredentialAuth) -> ksa_session.Session:
        plugin = CountingApplicationCredential(
            pool=self.pool,
            auth_url=auth.auth_url,
            application_credential_id=auth.credential_id,
            application_credential_secret=auth.secret,
        )
        return pool_session(plugin, timeout=self.timeout)

    def authenticate(self, session: Any) -> None:
        with translate(self.pool, "authenticate"):
            session.get_token()
