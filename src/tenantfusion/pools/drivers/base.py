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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tenantfusion.pools.drivers.remote import (
    Capacity,
    CatalogKind,
    Kind,
    ListCall,
    PurgeKind,
    RemoteObject,
)


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
class AppCredentialAuth:
    """A Keystone application credential (``v3applicationcredential``): its project and
    roles are fixed when it is created."""

    auth_url: str
    credential_id: str
    secret: str = field(repr=False)
    region_name: str | None = None


@dataclass(frozen=True)
class RemoteAppCredential:
    remote_id: str
    name: str
    project_id: str | None
    roles: tuple[str, ...]
    unrestricted: bool
    expires_at: datetime | None = None


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
        """Every role the user effectively holds, group, inherited and implied roles
        included: ``{project_id: [role, ...]}``; ``domain:<id>`` or ``system`` for other
        scopes."""

    @abc.abstractmethod
    def implied_roles(self, *, role: str) -> tuple[str, ...]:
        """The roles ``role`` implies (``member`` implies ``reader`` in Keystone's default
        roles), transitively."""

    # --- application credentials (``session`` is the pool user's own password session:
    # Keystone lets only the user create its application credentials) ----------------

    @abc.abstractmethod
    def list_application_credentials(
        self, *, session: Any, user_id: str
    ) -> list[RemoteAppCredential] | None:
        """The user's application credentials, or None when the pool's Keystone has no
        application credentials API (404): the caller falls back to the password."""

    @abc.abstractmethod
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
        """Create a restricted (not ``unrestricted``) application credential for the
        session's project holding only ``roles``. Raises PoolConflict on a taken name."""

    @abc.abstractmethod
    def delete_application_credential(self, *, session: Any, user_id: str, remote_id: str) -> None:
        """Delete (revoke) an application credential; gone already is fine."""

    @abc.abstractmethod
    def app_credential_session(self, auth: AppCredentialAuth) -> Any:
        """A session authenticated with an application credential (its project's scope)."""

    @abc.abstractmethod
    def authenticate(self, session: Any) -> None:
        """Obtain a token for ``session`` now. Raises PoolAuthFailed if refused."""

    @abc.abstractmethod
    def public_endpoint(self, *, session: Any, service_types: Sequence[str]) -> str | None:
        """The public endpoint of the first of ``service_types`` in the pool's catalog as
        ``session`` sees it (the admin's catalog when ``session`` is None), or None."""

    @abc.abstractmethod
    def tenant_session(self, auth: PoolAuth) -> Any:
        """A session authenticated as a tenant's pool user, scoped to its project.

        The session caches its token and re-authenticates only on expiry or a 401.
        """

    # --- tenant resources (``session`` is the tenant's own, from tenant_session) ---------

    @abc.abstractmethod
    def create_object(
        self, *, session: Any, kind: Kind, project_id: str, spec: Mapping[str, Any]
    ) -> RemoteObject:
        """Create an object in the tenant's project.

        ``spec`` holds the kind's fields in pool terms (remote ids) plus ``name``,
        ``description`` and ``tag`` (``record_tag``: Nova takes it in the create call,
        Neutron right after it). Everything runs with the tenant's ``session`` except what the
        pool's policy reserves to admins (a distributed router), done as admin with
        ``project_id``. Raises PoolRejected (bad input), PoolQuotaExceeded, PoolConflict.
        """

    @abc.abstractmethod
    def find_by_record(self, *, session: Any, kind: Kind, record_id: str) -> RemoteObject | None:
        """The object created for routing record ``record_id`` (by its tag or description,
        filtered by the pool), or None when the pool holds none. Raises PoolUnreachable:
        "don't know" is never answered with None."""

    @abc.abstractmethod
    def get_object(self, *, session: Any, kind: Kind, remote_id: str) -> RemoteObject | None:
        """An object the tenant's ``session`` can see, or None."""

    @abc.abstractmethod
    def list_objects(self, *, session: Any, kind: Kind) -> list[RemoteObject]:
        """Every object of ``kind`` the tenant's ``session`` can see."""

    def list_call(self, *, session: Any, kind: Kind) -> ListCall | None:
        """``list_objects`` as plain HTTP GETs the caller may send itself (from the event
        loop), or None when this driver or kind lists only through ``list_objects``. May
        call the pool (a token, a catalog): never inside a transaction."""
        return None

    @abc.abstractmethod
    def delete_object(self, *, session: Any, kind: Kind, remote_id: str) -> None:
        """Delete an object (gone already is fine). Servers go away asynchronously."""

    @abc.abstractmethod
    def act(
        self, *, session: Any, kind: Kind, remote_id: str, action: str, args: Mapping[str, Any]
    ) -> None:
        """Run an action on an object: server start/stop/reboot (args ``hard``); router
        add_interface/remove_interface (``subnet_id``), set_gateway/clear_gateway;
        floating_ip associate (``server_id``)/disassociate; volume attach/detach
        (``server_id``, a server of the same project: the compute service attaches it)."""

    @abc.abstractmethod
    def reserved_servers(
        self, *, project_id: str, reservation_id: str | None = None, server_id: str | None = None
    ) -> list[RemoteObject]:
        """The project's servers one multiple create made (Nova's reservation), named by
        ``reservation_id`` or by one of them, ``server_id``; ``[]`` when none is found.
        Asked as admin: Nova shows a server's reservation id to admins only."""

    @abc.abstractmethod
    def find_catalog(self, *, kind: CatalogKind, ref: str | None = None) -> list[RemoteObject]:
        """Public flavors, public images or external networks; with ``ref``, those whose
        name or id is ``ref``."""

    @abc.abstractmethod
    def capacity(self) -> Capacity | None:
        """Free compute capacity, or None when the pool has no Placement."""

    # --- quotas: admin-side, on a tenant's project ---------------------------------------

    @abc.abstractmethod
    def set_project_quotas(
        self, *, project_id: str, limits: Mapping[str, int | None]
    ) -> dict[str, int]:
        """Set the project's quotas in the pool to the platform's ``limits`` (resource →
        limit: ``servers``, ``vcpus``, ``ram_mb``, ``networks``, ``routers``,
        ``floating_ips``, ...); a None limit puts the pool's default back. Resources the
        pool has no quota for are left out. Returns what was set, in the pool's terms
        (``{}``: the pool offers none of these quotas)."""

    # --- leaving a pool: admin-side, over everything a project owns ----------------------

    @abc.abstractmethod
    def list_project_objects(self, *, project_id: str, kind: PurgeKind) -> list[RemoteObject]:
        """Every object of ``kind`` the project owns, seen as admin (ports: also every port
        on the project's networks). ``[]`` when the pool has no service for ``kind``.
        Never creates anything (listing a project's security groups in Neutron makes its
        default group: drivers must not)."""

    @abc.abstractmethod
    def purge_object(self, *, kind: PurgeKind, remote_id: str, force: bool = False) -> None:
        """Delete an object as admin; gone already is fine. A floating IP is disassociated
        first; a server in ERROR (or any server with ``force``) is reset first and
        force-deleted where the pool allows. Servers go away asynchronously."""

    @abc.abstractmethod
    def detach_router(self, *, remote_id: str) -> None:
        """Remove every interface and the external gateway of a router (admin)."""
