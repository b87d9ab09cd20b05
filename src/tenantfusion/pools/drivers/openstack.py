"""OpenStack pool driver on keystoneauth1 sessions and openstacksdk proxies."""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import structlog
from keystoneauth1 import session as ksa_session
from openstack import connection

from tenantfusion.errors import (
    PoolError,
    PoolNotAdmin,
)
from tenantfusion.pools.drivers.base import (
    Capabilities,
    PoolAuth,
    PoolDriver,
    RemoteProject,
    RemoteUser,
)
from tenantfusion.pools.drivers.openstack_errors import translate
from tenantfusion.pools.drivers.openstack_identity import (
    CountingPassword,
    OpenStackIdentity,
    pool_session,
)
from tenantfusion.pools.drivers.openstack_purge import OpenStackPurge
from tenantfusion.pools.drivers.openstack_quotas import OpenStackQuotas
from tenantfusion.pools.drivers.openstack_resources import OpenStackResources

log = structlog.get_logger(__name__)

#: Services whose health is probed when they appear in the catalog.
#: Seconds Keystone's token revocation events may cover after a password change.
PASSWORD_REVOCATION_GRANULARITY = 1.0
PROBED_SERVICES = ("compute", "network", "image", "placement", "block-storage", "volumev3")


class OpenStackDriver(
    OpenStackQuotas, OpenStackPurge, OpenStackIdentity, OpenStackResources, PoolDriver
):
    """Talks to one OpenStack cloud as its admin."""

    kind = "openstack"

    def _plugin(self, auth: PoolAuth) -> CountingPassword:
        return CountingPassword(
            pool=self.pool,
            auth_url=auth.auth_url,
            username=auth.username,
            password=auth.password,
            user_domain_name=auth.user_domain_name,
            project_name=auth.project_name if not auth.project_id else None,
            project_id=auth.project_id,
            project_domain_name=auth.project_domain_name if not auth.project_id else None,
        )

    def _session(self, auth: PoolAuth) -> ksa_session.Session:
        return pool_session(self._plugin(auth), timeout=self.timeout)

    @cached_property
    def admin_session(self) -> ksa_session.Session:
        return self._session(self.auth)

    @cached_property
    def conn(self) -> connection.Connection:
        return connection.Connection(
            session=self.admin_session,
            region_name=self.auth.region_name,
        )  # from_session never reads clouds.yaml or OS_* variables

    @cached_property
    def _domain_ids(self) -> dict[str, str]:
        return {}

    def _domain_id(self, domain: str) -> str:
        if domain not in self._domain_ids:
            with translate(self.pool, "find_domain"):
                found = self.identity.find_domain(domain, ignore_missing=False)
            self._domain_ids[domain] = found.id
        return self._domain_ids[domain]

    def check(self) -> Capabilities:
        with translate(self.pool, "authenticate"):
            access = self.admin_session.auth.get_access(self.admin_session)  # type: ignore[union-attr]
        if "admin" not in (access.role_names or []):
            raise PoolNotAdmin(
                f"pool {self.pool}: the credential holds roles {sorted(access.role_names or [])}, "
                "not admin",
                pool=self.pool,
            )
        with translate(self.pool, "list_projects"):
            next(iter(self.identity.projects(limit=1)), None)
        catalog = access.service_catalog
        services = sorted(
            {
                s["type"]
                for s in catalog.catalog
                if any(
                    not self.auth.region_name
                    or ep.get("region_id", ep.get("region")) == self.auth.region_name
                    for ep in s.get("endpoints", [])
                )
            }
        )
        degraded: list[str] = []
        features: list[str] = []
        for service in services:
            if service not in PROBED_SERVICES:
                continue
            try:
                with translate(self.pool, f"probe_{service}"):
                    self.admin_session.get(
                        "/",
                        endpoint_filter={
                            "service_type": service,
                            "interface": "public",
                            "region_name": self.auth.region_name,
                        },
                        raise_exc=False,
                    )
            except PoolError:
                degraded.append(service)
        if "network" in services and "network" not in degraded:
            try:
                with translate(self.pool, "list_network_extensions"):
                    aliases = {ext.alias for ext in self.conn.network.extensions()}
                if "dvr" in aliases:
                    features.append("dvr")
            except PoolError:
                degraded.append("network")
        return Capabilities(
            services=tuple(services), features=tuple(features), degraded=tuple(degraded)
        )

    @staticmethod
    def _project(p: Any) -> RemoteProject:
        return RemoteProject(
            remote_id=p.id,
            name=p.name,
            domain_id=p.domain_id,
            tags=tuple(p.tags or ()),
            description=p.description or "",
        )

    def find_project(self, *, name: str, domain: str) -> RemoteProject | None:
        with translate(self.pool, "find_project"):
            found = self.identity.find_project(name, domain_id=self._domain_id(domain))
        return self._project(found) if found else None

    def list_projects(self, *, tag: str) -> list[RemoteProject]:
        with translate(self.pool, "list_projects"):
            return [self._project(p) for p in self.identity.projects(tags=tag)]

    def create_project(
        self, *, name: str, domain: str, tags: tuple[str, ...], description: str
    ) -> RemoteProject:
        with translate(self.pool, "create_project"):
            created = self.identity.create_project(
                name=name,
                domain_id=self._domain_id(domain),
                tags=list(tags),
                description=description,
                is_enabled=True,
            )
        return self._project(created)

    def delete_project(self, remote_id: str, *, ignore_missing: bool = True) -> None:
        with translate(self.pool, "delete_project"):
            self.identity.delete_project(remote_id, ignore_missing=ignore_missing)

    @staticmethod
    def _user(u: Any) -> RemoteUser:
        return RemoteUser(
            remote_id=u.id,
            name=u.name,
            domain_id=u.domain_id,
            default_project_id=u.default_project_id,
        )

    def find_user(self, *, name: str, domain: str) -> RemoteUser | None:
        with translate(self.pool, "find_user"):
            found = self.identity.find_user(name, domain_id=self._domain_id(domain))
        return self._user(found) if found else None

    def create_user(
        self, *, name: str, domain: str, password: str, default_project_id: str
    ) -> RemoteUser:
        with translate(self.pool, "create_user"):
            created = self.identity.create_user(
                name=name,
                domain_id=self._domain_id(domain),
                password=password,
                default_project_id=default_project_id,
                is_enabled=True,
                description="tenantfusion service user (member of one project)",
            )
        return self._user(created)

    def set_user_password(self, remote_id: str, *, password: str) -> None:
        with translate(self.pool, "update_user"):
            self.identity.update_user(remote_id, password=password)
        # Keystone revokes the user's tokens by an event stamped with the current time,
        # and compares it with token issue times at one-second resolution: a token
        # issued within the same second would be refused. Let that second pass.
        time.sleep(PASSWORD_REVOCATION_GRANULARITY)

    def delete_user(self, remote_id: str, *, ignore_missing: bool = True) -> None:
        with translate(self.pool, "delete_user"):
            self.identity.delete_user(remote_id, ignore_missing=ignore_missing)

    def grant_project_role(self, *, user_id: str, project_id: str, role: str) -> None:
        with translate(self.pool, "grant_role"):
            role_obj = self.identity.find_role(role, ignore_missing=False)
            self.identity.assign_project_role_to_user(project_id, user_id, role_obj.id)

    def tenant_session(self, auth: PoolAuth) -> ksa_session.Session:
        return self._session(auth)

    def public_endpoint(
        self, *, session: ksa_session.Session | None, service_types: Sequence[str]
    ) -> str | None:
        on = session if session is not None else self.admin_session
        with translate(self.pool, "find_endpoint"):
            for service_type in service_types:
                url = on.get_endpoint(
                    service_type=service_type, interface="public", region_name=self.auth.region_name
                )
                if url:
                    return str(url)
        return None

    @cached_property
    def _tenant_conns(self) -> weakref.WeakKeyDictionary[Any, connection.Connection]:
        return weakref.WeakKeyDictionary()

    def _tenant_conn(self, session: ksa_session.Session) -> connection.Connection:
        """One openstacksdk Connection per tenant session, kept as long as the session:
        a new Connection would discover each service's versions again (an extra round
        trip to Nova or Neutron on every call)."""
        conn = self._tenant_conns.get(session)
        if conn is None:
            conn = connection.Connection(session=session, region_name=self.auth.region_name)
            self._tenant_conns[session] = conn
        return conn
