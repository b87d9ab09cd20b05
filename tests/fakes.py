"""An in-memory pool driver for unit tests of tenantfusion's own logic (never as evidence
that a feature works against OpenStack: the keystone-marked tests are that)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from tenantfusion.config import Settings
from tenantfusion.crypto import encrypt_json
from tenantfusion.errors import PoolAuthFailed, PoolConflict, PoolRejected, PoolUnreachable
from tenantfusion.pools.drivers.base import (
    AppCredentialAuth,
    Capabilities,
    PoolAuth,
    PoolDriver,
    RemoteAppCredential,
    RemoteProject,
    RemoteUser,
)
from tenantfusion.pools.drivers.remote import (
    Capacity,
    CatalogKind,
    Kind,
    PurgeKind,
    RemoteObject,
    record_description,
)
from tenantfusion.pools.models import Pool, PoolStatus


class FakeCloud:
    """The state of one fake pool, shared by every driver instance pointing at it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.projects: dict[str, RemoteProject] = {}
        self.users: dict[str, RemoteUser] = {}
        self.passwords: dict[str, str] = {}
        self.grants: set[tuple[str, str, str]] = set()
        self.ids = itertools.count(1)
        self.down = False
        self.objects: dict[str, RemoteObject] = {}
        self.fail_on: set[str] = set()
        self.reject_on: set[str] = set()
        #: operations that hang (a pool that does not answer) until ``resume`` is set
        self.hang_on: set[str] = set()
        self.resume = threading.Event()
        #: False: a Keystone without the application credentials API (answers 404).
        self.has_app_credentials = True
        self.app_credentials: dict[str, tuple[str, RemoteAppCredential, str]] = {}
        #: project id -> the quotas last set there
        self.quotas: dict[str, dict[str, int | None]] = {}

    def _check(self, op: str) -> None:
        if op in self.hang_on:
            self.resume.wait(timeout=30)
        if self.down or op in self.fail_on:
            raise PoolUnreachable(f"fake pool down during {op}")
        if op in self.reject_on:
            raise PoolRejected(f"fake pool refuses {op}")


CLOUDS: dict[str, FakeCloud] = {}


ALL_SERVICES = ("identity", "compute", "network", "block-storage")


def fake_pool(
    *, name: str, url: str, driver: str, settings: Settings, services: Sequence[str] = ALL_SERVICES
) -> Pool:
    """A healthy pool row whose ``driver`` (registered in ``DRIVERS``) answers from the fake
    cloud at ``CLOUDS[url]``; the caller adds and commits it."""
    auth = PoolAuth(auth_url=url, username="admin", password="pw")
    return Pool(
        name=name,
        driver=driver,
        auth_url=url,
        project_domain="Default",
        credential=encrypt_json(auth.to_dict(), settings=settings),
        status=PoolStatus.ok,
        services=list(services),
    )


class FakeDriver(PoolDriver):
    kind = "fake"

    def __init__(self, auth: PoolAuth, *, pool: str, timeout: float) -> None:
        super().__init__(auth, pool=pool, timeout=timeout)
        self.cloud = CLOUDS.setdefault(auth.auth_url, FakeCloud())

    def check(self) -> Capabilities:
        self.cloud._check("check")
        return Capabilities(services=("identity",))

    def find_project(self, *, name: str, domain: str) -> RemoteProject | None:
        self.cloud._check("find_project")
        return next((p for p in self.cloud.projects.values() if p.name == name), None)

    def list_projects(self, *, tag: str) -> list[RemoteProject]:
        return [p for p in self.cloud.projects.values() if tag in p.tags]

    def create_project(
        self, *, name: str, domain: str, tags: tuple[str, ...], description: str
    ) -> RemoteProject:
        self.cloud._check("create_project")
        with self.cloud.lock:
            if self.find_project(name=name, domain=domain):
                raise PoolConflict("name taken")
            p = RemoteProject(f"p{next(self.cloud.ids)}", name, "default", tags, description)
            self.cloud.projects[p.remote_id] = p
            return p

    def delete_project(self, remote_id: str, *, ignore_missing: bool = True) -> None:
        self.cloud.projects.pop(remote_id, None)

    def find_user(self, *, name: str, domain: str) -> RemoteUser | None:
        return next((u for u in self.cloud.users.values() if u.name == name), None)

    def create_user(
        self, *, name: str, domain: str, password: str, default_project_id: str
    ) -> RemoteUser:
        self.cloud._check("create_user")
        with self.cloud.lock:
            if self.find_user(name=name, domain=domain):
                raise PoolConflict("name taken")
            u = RemoteUser(f"u{next(self.cloud.ids)}", name, "default", default_project_id)
            self.cloud.users[u.remote_id] = u
            self.cloud.passwords[u.remote_id] = password
            return u

    def set_user_password(self, remote_id: str, *, password: str) -> None:
        self.cloud.passwords[remote_id] = password

    def delete_user(self, remote_id: str, *, ignore_missing: bool = True) -> None:
        self.cloud.users.pop(remote_id, None)

    def grant_project_role(self, *, user_id: str, project_id: str, role: str) -> None:
        self.cloud._check("grant_project_role")
        self.cloud.grants.add((user_id, project_id, role))

    def list_project_roles(self, *, user_id: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for u, p, r in self.cloud.grants:
            if u == user_id:
                out.setdefault(p, []).append(r)
        return out

    def implied_roles(self, *, role: str) -> tuple[str, ...]:
        return ("reader",) if role == "member" else ()

    def list_application_credentials(
        self, *, session: Any, user_id: str
    ) -> list[RemoteAppCredential] | None:
        self.cloud._check("list_application_credentials")
        if not self.cloud.has_app_credentials:
            return None
        return [c for u, c, _ in self.cloud.app_credentials.values() if u == user_id]

    def create_application_credential(
        self,
        *,
        session: Any,
        user_id: str,
        name: str,
        secret: str,
        roles: tuple[str, ...],
        expires_at: Any,
    ) -> RemoteAppCredential:
        self.cloud._check("create_application_credential")
        cred = RemoteAppCredential(
            f"ac{next(self.cloud.ids)}", name, session.project_id, roles, False, expires_at
        )
        self.cloud.app_credentials[cred.remote_id] = (user_id, cred, secret)
        return cred

    def delete_application_credential(self, *, session: Any, user_id: str, remote_id: str) -> None:
        self.cloud._check("delete_application_credential")
        self.cloud.app_credentials.pop(remote_id, None)

    def app_credential_session(self, auth: AppCredentialAuth) -> Any:
        found = self.cloud.app_credentials.get(auth.credential_id)
        project = found[1].project_id if found else None
        return PoolAuth(auth.auth_url, f"appcred:{auth.credential_id}", auth.secret, None, project)

    def authenticate(self, session: Any) -> None:
        if session.username.startswith("appcred:"):
            found = self.cloud.app_credentials.get(session.username.removeprefix("appcred:"))
            if found is None or found[2] != session.password:
                raise PoolAuthFailed("fake pool refuses the application credential")

    def tenant_session(self, auth: PoolAuth) -> Any:
        return auth

    def public_endpoint(self, *, session: Any, service_types: Sequence[str]) -> str | None:
        return None

    # tenant objects: an in-memory store per project (the session is the tenant's auth)

    def create_object(
        self, *, session: Any, kind: Kind, project_id: str, spec: Mapping[str, Any]
    ) -> RemoteObject:
        self.cloud._check(f"create_{kind}")
        obj = RemoteObject(
            kind=kind,
            remote_id=f"{kind}-{next(self.cloud.ids)}",
            name=str(spec.get("name", "")),
            status="ACTIVE",
            project_id=session.project_id,
            description=str(spec.get("description", "")),
        )
        self.cloud.objects[obj.remote_id] = obj
        return obj

    def find_by_record(self, *, session: Any, kind: Kind, record_id: str) -> RemoteObject | None:
        self.cloud._check(f"find_{kind}")
        wanted = record_description(record_id)
        return next(
            (o for o in self.list_objects(session=session, kind=kind) if o.description == wanted),
            None,
        )

    def get_object(self, *, session: Any, kind: Kind, remote_id: str) -> RemoteObject | None:
        self.cloud._check(f"get_{kind}")
        obj = self.cloud.objects.get(remote_id)
        return obj if obj and obj.project_id == session.project_id else None

    def list_objects(self, *, session: Any, kind: Kind) -> list[RemoteObject]:
        self.cloud._check(f"list_{kind}")
        return [
            o
            for o in self.cloud.objects.values()
            if o.kind == kind and o.project_id == session.project_id
        ]

    def delete_object(self, *, session: Any, kind: Kind, remote_id: str) -> None:
        self.cloud._check(f"delete_{kind}")
        self.cloud.objects.pop(remote_id, None)

    def act(
        self, *, session: Any, kind: Kind, remote_id: str, action: str, args: Mapping[str, Any]
    ) -> None:
        self.cloud._check(f"{kind}_{action}")

    def reserved_servers(
        self, *, project_id: str, reservation_id: str | None = None, server_id: str | None = None
    ) -> list[RemoteObject]:
        return []

    def find_catalog(self, *, kind: CatalogKind, ref: str | None = None) -> list[RemoteObject]:
        return []

    def capacity(self) -> Capacity | None:
        return None

    def list_project_objects(self, *, project_id: str, kind: PurgeKind) -> list[RemoteObject]:
        self.cloud._check(f"list_project_{kind}s")
        return [
            o for o in self.cloud.objects.values() if o.kind == kind and o.project_id == project_id
        ]

    def purge_object(self, *, kind: PurgeKind, remote_id: str, force: bool = False) -> None:
        self.cloud._check(f"purge_{kind}")
        self.cloud.objects.pop(remote_id, None)

    def set_project_quotas(
        self, *, project_id: str, limits: Mapping[str, int | None]
    ) -> dict[str, int]:
        self.cloud._check("set_project_quotas")
        self.cloud.quotas[project_id] = dict(limits)
        return {k: v for k, v in limits.items() if v is not None}

    def detach_router(self, *, remote_id: str) -> None:
        self.cloud._check("detach_router")
