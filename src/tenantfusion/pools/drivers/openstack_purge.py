"""Leaving a pool on OpenStack: everything a tenant's project owns, listed and deleted as
the pool's admin (the tenant's own user may already be gone, and some objects, such as a
distributed router's ports or a server stuck in ERROR, are beyond a member's rights).

Not a hot path: openstacksdk's proxies and Resource objects are used as they are.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from openstack import exceptions as sdk_exc

from tenantfusion.pools.drivers.openstack_admin import AdminAccess
from tenantfusion.pools.drivers.openstack_errors import translate
from tenantfusion.pools.drivers.openstack_resources import ROUTER_INTERFACE_OWNERS
from tenantfusion.pools.drivers.remote import PurgeKind, RemoteObject

#: The catalog service each purged kind lives in.
SERVICE_OF: dict[str, str] = {
    "floating_ip": "network",
    "server": "compute",
    "volume": "block-storage",
    "router": "network",
    "port": "network",
    "subnet": "network",
    "network": "network",
    "security_group": "network",
}


def _remote(kind: str, obj: Any) -> RemoteObject:
    return RemoteObject(
        kind=kind,
        remote_id=obj.id,
        name=getattr(obj, "name", None) or "",
        status=getattr(obj, "status", None) or "",
        project_id=getattr(obj, "project_id", None),
    )


class OpenStackPurge(AdminAccess):
    """The admin-side purge half of the OpenStack driver (mixed into OpenStackDriver)."""

    pool: str
    auth: Any

    @cached_property
    def _offered(self) -> dict[str, bool]:
        return {}

    def _offers(self, service: str) -> bool:
        """Whether the pool's catalog has ``service`` (a Keystone-only pool has no Nova)."""
        if service not in self._offered:
            with translate(self.pool, "authenticate"):
                access = self.admin_session.auth.get_access(self.admin_session)  # type: ignore[union-attr]
            found = access.service_catalog.get_endpoints(
                service_type=service, interface="public", region_name=self.auth.region_name
            )
            self._offered[service] = bool(found.get(service))
        return self._offered[service]

    def list_project_objects(self, *, project_id: str, kind: PurgeKind) -> list[RemoteObject]:
        if not self._offers(SERVICE_OF[kind]):
            return []
        net = self.conn.network
        found: list[Any]
        with translate(self.pool, f"list_project_{kind}s"):
            match kind:
                case "server":
                    found = list(
                        self.conn.compute.servers(all_projects=True, project_id=project_id)
                    )
                case "volume":
                    found = list(
                        self.conn.block_storage.volumes(all_projects=True, project_id=project_id)
                    )
                case "floating_ip":
                    found = list(net.ips(project_id=project_id))
                case "router":
                    found = list(net.routers(project_id=project_id))
                case "port":
                    ports = {p.id: p for p in net.ports(project_id=project_id)}
                    for network in net.networks(project_id=project_id):
                        ports.update({p.id: p for p in net.ports(network_id=network.id)})
                    found = list(ports.values())
                case "subnet":
                    found = list(net.subnets(project_id=project_id))
                case "network":
                    found = list(net.networks(project_id=project_id))
                case "security_group":
                    # unfiltered on purpose: Neutron makes a project's default group when
                    # its security groups are listed by project (securitygroups_db.py)
                    found = [sg for sg in net.security_groups() if sg.project_id == project_id]
        return [_remote(kind, o) for o in found]

    def purge_object(self, *, kind: PurgeKind, remote_id: str, force: bool = False) -> None:
        net = self.conn.network
        with translate(self.pool, f"purge_{kind}"):
            match kind:
                case "floating_ip":
                    try:
                        net.update_ip(remote_id, port_id=None)
                    except sdk_exc.NotFoundException:
                        return
                    net.delete_ip(remote_id, ignore_missing=True)
                case "server":
                    self._purge_server(remote_id, force=force)
                case "volume":  # its servers are gone (Nova detached it); snapshots go too
                    self.conn.block_storage.delete_volume(
                        remote_id, ignore_missing=True, cascade=True
                    )
                case _:  # router, port, subnet, network, security_group
                    getattr(net, f"delete_{kind}")(remote_id, ignore_missing=True)

    def _purge_server(self, remote_id: str, *, force: bool) -> None:
        compute = self.conn.compute
        server = compute.find_server(remote_id, ignore_missing=True, all_projects=True)
        if server is None:
            return
        if server.status == "SOFT_DELETED":
            compute.delete_server(server, force=True)
            return
        if force or server.status == "ERROR":
            try:  # clears a stuck task state, so Nova accepts the delete again
                compute.reset_server_state(server, "active")
            except sdk_exc.HttpException:
                pass  # a policy that refuses it: the plain delete below is all we can do
        compute.delete_server(server, ignore_missing=True)

    def detach_router(self, *, remote_id: str) -> None:
        net = self.conn.network
        with translate(self.pool, "detach_router"):
            router = net.find_router(remote_id, ignore_missing=True)
            if router is None:
                return
            for port in net.ports(device_id=remote_id):
                if port.device_owner in ROUTER_INTERFACE_OWNERS:
                    try:
                        net.remove_interface_from_router(router, port=port.id)
                    except sdk_exc.NotFoundException:
                        pass  # removed meanwhile
            if router.external_gateway_info:
                net.update_router(router, external_gateway_info={})
