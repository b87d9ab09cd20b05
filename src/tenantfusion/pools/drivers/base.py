"""The pool driver interface: what tenantfusion needs from any kind of resource pool.

Drivers take and return frozen dataclasses, never SDK or ORM objects, and raise only
``tenantfusion.errors.PoolError`` subclasses (mapped once, at the driver boundary):

- ``PoolUnreachable``: nothing answered within the timeout.
- ``PoolAuthFailed``: the pool rejected the credential.
- ``PoolNotAdmin``: the credential works but lacks the rights the call needs.
- ``PoolConflict``: the object already exists (name taken) or is in use.
- ``PoolObjectNotFound``: the object is gone.
- ``PoolError``: anything else the pool reported.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PoolAuth:
    """An admin (or tenant) credential for a pool."""

    auth_url: str
    username: str
    password: str = field(repr=False)
    project_name: str | None = None
    project_id: str | None = None
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    region_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Capabilities:
    """What a pool offers: service types in its catalog and optional features (``dvr``)."""

    services: tuple[str, ...]
    features: tuple[str, ...] = ()
    degraded: tuple[str, ...] = ()  # services listed in the catalog that did not answer


@dataclass(frozen=True)
class RemoteProject:
    remote_id: str
    name: str
    domain_id: str
    tags: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class RemoteUser:
    remote_id: str
    name: str
    domain_id: str
    default_project_id: str | None = None


@dataclass(frozen=True)
class RemoteRouter:
    remote_id: str
    name: str
    project_id: str
    status: str
    is_distributed: bool | None  # None when the caller may not see the attribute
    external_network_id: str | None = None


class PoolDriver(abc.ABC):
    """Admin-side operations on one pool. One instance per pool and credential."""

    kind: str = "abstract"

    def __init__(self, auth: PoolAuth, *, pool: str, timeout: float) -> None:
        self.auth = auth
        self.pool = pool
        self.timeout = timeout

    @abc.abstractmethod
    def check(self) -> Capabilities:
        """Authenticate, prove admin rights and discover capabilities.

        Raises PoolUnreachable, PoolAuthFailed or PoolNotAdmin.
        """

    @abc.abstractmethod
    def find_project(self, *, name: str, domain: str) -> RemoteProject | None:
        """The project called ``name`` in ``domain``, or None."""

    @abc.abstractmethod
    def list_projects(self, *, tag: str) -> list[RemoteProject]:
        """Every project carrying ``tag``."""

    @abc.abstractmethod
    def create_project(
        self, *, name: str, domain: str, tags: tuple[str, ...], description: str
    ) -> RemoteProject:
        """Create a project. Raises PoolConflict if the name is taken."""

    @abc.abstractmethod
    def delete_project(self, remote_id: str, *, ignore_missing: bool = True) -> None:
        """Delete a project."""

    @abc.abstractmethod
    def find_user(self, *, name: str, domain: str) -> RemoteUser | None:
        """The user called ``name`` in ``domain``, or None."""

    @abc.abstractmethod
    def create_user(
        self, *, name: str, domain: str, password: str, default_project_id: str
    ) -> RemoteUser:
        """Create a user. Raises PoolConflict if the name is taken."""

    @abc.abstractmethod
    def set_user_password(self, remote_id: str, *, password: str) -> None:
        """Replace a user's password (adoption after the stored one was lost)."""

    @abc.abstractmethod
    def delete_user(self, remote_id: str, *, ignore_missing: bool = True) -> None:
        """Delete a user."""

    @abc.abstractmethod
    def grant_project_role(self, *, user_id: str, project_id: str, role: str) -> None:
        """Grant ``role`` on a project; granting twice is fine."""

    @abc.abstractmethod
    def list_project_roles(self, *, user_id: str) -> dict[str, list[str]]:
        """Every role the user holds: ``{project_id: [role, ...]}``; ``"*"`` for non-project."""

    @abc.abstractmethod
    def tenant_session(self, auth: PoolAuth) -> Any:
        """A session authenticated as a tenant's pool user, scoped to its project.

        The session caches its token and re-authenticates only on expiry or a 401.
        """

    @abc.abstractmethod
    def create_router(
        self, *, session: Any, project_id: str, name: str, description: str, distributed: bool
    ) -> RemoteRouter:
        """Create a router in the tenant's project.

        A plain router is created with the tenant's own ``session``; a distributed one needs
        the admin credential (the attribute is admin-only under Neutron's default policy).
        """

    @abc.abstractmethod
    def get_router(self, *, session: Any, remote_id: str) -> RemoteRouter | None:
        """A router the tenant's ``session`` can see, or None."""

    @abc.abstractmethod
    def list_routers(self, *, session: Any) -> list[RemoteRouter]:
        """Every router the tenant's ``session`` can see."""

    @abc.abstractmethod
    def delete_router(self, *, session: Any, remote_id: str) -> None:
        """Delete a router with the tenant's ``session`` (gone already is fine)."""
