"""Tenant resources on OpenStack (Nova, Neutron, Glance, Placement) through openstacksdk.

One table says, per kind, which proxy call lists, gets, creates and deletes it and how the
SDK object becomes a ``RemoteObject``; the methods below are generic over it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from keystoneauth1 import session as ksa_session
from openstack import connection

from tenantfusion.errors import PoolRejected
from tenantfusion.pools.drivers.openstack_errors import translate
from tenantfusion.pools.drivers.remote import Capacity, CatalogKind, Kind, RemoteObject

#: Nova's numeric power states (nova/compute/power_state.py).
POWER_STATES = {
    0: "NOSTATE",
    1: "RUNNING",
    3: "PAUSED",
    4: "SHUTDOWN",
    6: "CRASHED",
    7: "SUSPENDED",
}
ROUTER_INTERFACE_OWNERS = (
    "network:router_interface",
    "network:router_interface_distributed",
    "network:ha_router_replicated_interface",
)
CAPACITY_TTL_SECONDS = 15.0


def _id_of(ref: Any) -> str | None:
    """The id in a reference Nova gives as a dict, a resource or nothing."""
    if isinstance(ref, dict):
        return ref.get("id")
    return getattr(ref, "id", None)


def _server(s: Any) -> RemoteObject:
    flavor = s.flavor
    addresses = {
        net: [a["addr"] for a in entries if "addr" in a]
        for net, entries in (s.addresses or {}).items()
    }
    return RemoteObject(
        kind="server",
        remote_id=s.id,
        name=s.name or "",
        status=s.status or "",
        project_id=s.project_id,
        description=(s.metadata or {}).get("tf_record", ""),
        attrs={
            "flavor": getattr(flavor, "original_name", None) or getattr(flavor, "id", None),
            "image_id": _id_of(s.image),
            "addresses": addresses,
            "power_state": POWER_STATES.get(s.power_state) if s.power_state is not None else None,
        },
    )


def _network(n: Any) -> RemoteObject:
    return RemoteObject(
        kind="network",
        remote_id=n.id,
        name=n.name or "",
        status=n.status or "",
        project_id=n.project_id,
        description=n.description or "",
        attrs={
            "subnet_ids": list(n.subnet_ids or []),
            "mtu": n.mtu,
            "is_external": bool(n.is_router_external),
        },
    )


def _subnet(s: Any) -> RemoteObject:
    return RemoteObject(
        kind="subnet",
        remote_id=s.id,
        name=s.name or "",
        status="ACTIVE",  # Neutron subnets have no status of their own
        project_id=s.project_id,
        description=s.description or "",
        attrs={
            "network_id": s.network_id,
            "cidr": s.cidr,
            "ip_version": s.ip_version,
            "gateway_ip": s.gateway_ip,
            "enable_dhcp": bool(s.is_dhcp_enabled),
        },
    )


def _router(r: Any, interfaces: Mapping[str, list[str]]) -> RemoteObject:
    gateway = r.external_gateway_info or {}
    return RemoteObject(
        kind="router",
        remote_id=r.id,
        name=r.name or "",
        status=r.status or "",
        project_id=r.project_id,
        description=r.description or "",
        attrs={
            "is_distributed": r.is_distributed,
            "external_network_id": gateway.get("network_id"),
            "interface_subnet_ids": interfaces.get(r.id, []),
        },
    )


def _floating_ip(f: Any) -> RemoteObject:
    details = f.port_details or {}
    return RemoteObject(
        kind="floating_ip",
        remote_id=f.id,
        name=f.floating_ip_address or "",
        status=f.status or "",
        project_id=f.project_id,
        description=f.description or "",
        attrs={
            "address": f.floating_ip_address,
            "port_id": f.port_id,
            "fixed_ip": f.fixed_ip_address,
            "device_id": details.get("device_id"),
            "network_id": f.floating_network_id,
        },
    )


def _flavor(f: Any) -> RemoteObject:
    return RemoteObject(
        kind="flavor",
        remote_id=f.id,
        name=f.name or "",
        status="ACTIVE",
        attrs={"vcpus": f.vcpus, "ram_mb": f.ram, "disk_gb": f.disk},
    )


def _image(i: Any) -> RemoteObject:
    return RemoteObject(
        kind="image",
        remote_id=i.id,
        name=i.name or "",
        status=i.status or "",
        project_id=i.owner,
        attrs={
            "min_disk_gb": i.min_disk or 0,
            "size_bytes": i.size,
            "visibility": i.visibility,
            "owner": i.owner,
        },
    )


@dataclass(frozen=True)
class KindOps:
    """How one kind maps onto openstacksdk proxy calls."""

    service: str  # proxy attribute: compute / network
    list_: str
    get: str
    create: str
    delete: str
    convert: Callable[[Any], RemoteObject]


KINDS: dict[str, KindOps] = {
    "server": KindOps(
        "compute", "servers", "get_server", "create_server", "delete_server", _server
    ),
    "network": KindOps(
        "network", "networks", "get_network", "create_network", "delete_network", _network
    ),
    "subnet": KindOps(
        "network", "subnets", "get_subnet", "create_subnet", "delete_subnet", _subnet
    ),
    "floating_ip": KindOps("network", "ips", "get_ip", "create_ip", "delete_ip", _floating_ip),
}


def _create_args(kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The proxy's create arguments for our spec (our field names → the SDK's)."""
    if kind == "server":
        return {
            "name": spec["name"],
            "flavor_id": spec["flavor_id"],
            "image_id": spec["image_id"],
            "networks": [{"uuid": spec["network_id"]}],
            "metadata": {"tf_record": spec["description"]},
        }
    if kind == "subnet":
        args = {
            "name": spec["name"],
            "description": spec["description"],
            "network_id": spec["network_id"],
            "cidr": spec["cidr"],
            "ip_version": spec["ip_version"],
            "is_dhcp_enabled": spec.get("enable_dhcp", True),
            "dns_nameservers": list(spec.get("dns_nameservers", [])),
        }
        if spec.get("gateway_ip"):
            args["gateway_ip"] = spec["gateway_ip"]
        return args
    if kind == "floating_ip":
        return {"floating_network_id": spec["network_id"], "description": spec["description"]}
    return {"name": spec["name"], "description": spec["description"]}


class OpenStackResources:
    """The tenant-resource half of the OpenStack driver (mixed into OpenStackDriver)."""

    pool: str
    conn: connection.Connection
    admin_session: ksa_session.Session
    _tenant_conn: Callable[[Any], connection.Connection]

    _capacity_cache: tuple[float, Capacity | None] | None = None

    def _proxy(self, session: Any, kind: str) -> Any:
        return getattr(self._tenant_conn(session), KINDS[kind].service)

    def _router_interfaces(self, net: Any, **filters: Any) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for owner in ROUTER_INTERFACE_OWNERS:
            for port in net.ports(device_owner=owner, **filters):
                found.setdefault(port.device_id, []).extend(
                    ip["subnet_id"] for ip in port.fixed_ips or []
                )
        return found

    def create_object(
        self, *, session: Any, kind: Kind, project_id: str, spec: Mapping[str, Any]
    ) -> RemoteObject:
        with translate(self.pool, f"create_{kind}"):
            if kind == "router":
                return self._create_router(session, project_id, spec)
            ops = KINDS[kind]
            proxy = self._proxy(session, kind)
            created = getattr(proxy, ops.create)(**_create_args(kind, spec))
            if kind == "server":  # Nova answers a create with little more than the id
                created = proxy.get_server(created.id)
            return ops.convert(created)

    def _create_router(
        self, session: Any, project_id: str, spec: Mapping[str, Any]
    ) -> RemoteObject:
        args: dict[str, Any] = {"name": spec["name"], "description": spec["description"]}
        if spec.get("external_network_id"):
            args["external_gateway_info"] = {"network_id": spec["external_network_id"]}
        if spec.get("distributed"):
            # admin-only attribute under Neutron's default policy (DVR rule R23)
            created = self.conn.network.create_router(
                project_id=project_id, distributed=True, **args
            )
        else:
            created = self._tenant_conn(session).network.create_router(**args)
        return _router(created, {})

    def get_object(self, *, session: Any, kind: Kind, remote_id: str) -> RemoteObject | None:
        with translate(self.pool, f"get_{kind}"):
            if kind == "router":
                net = self._tenant_conn(session).network
                found = net.find_router(remote_id, ignore_missing=True)
                return (
                    _router(found, self._router_interfaces(net, device_id=remote_id))
                    if found
                    else None
                )
            ops = KINDS[kind]
            proxy = self._proxy(session, kind)
            found = getattr(proxy, ops.get.replace("get_", "find_"))(remote_id, ignore_missing=True)
            if found is not None and kind == "server":
                found = proxy.get_server(found.id)  # find_ may return the short form
            return ops.convert(found) if found else None

    def list_objects(self, *, session: Any, kind: Kind) -> list[RemoteObject]:
        with translate(self.pool, f"list_{kind}"):
            if kind == "router":
                net = self._tenant_conn(session).network
                interfaces = self._router_interfaces(net)
                return [_router(r, interfaces) for r in net.routers()]
            ops = KINDS[kind]
            listing: Iterable[Any] = getattr(self._proxy(session, kind), ops.list_)(
                **({"details": True} if kind == "server" else {})
            )
            return [ops.convert(o) for o in listing]

    def delete_object(self, *, session: Any, kind: Kind, remote_id: str) -> None:
        with translate(self.pool, f"delete_{kind}"):
            if kind == "router":
                self._tenant_conn(session).network.delete_router(remote_id, ignore_missing=True)
                return
            ops = KINDS[kind]
            getattr(self._proxy(session, kind), ops.delete)(remote_id, ignore_missing=True)

    def act(
        self, *, session: Any, kind: Kind, remote_id: str, action: str, args: Mapping[str, Any]
    ) -> None:
        conn = self._tenant_conn(session)
        with translate(self.pool, f"{kind}_{action}"):
            match kind, action:
                case "server", "start":
                    conn.compute.start_server(remote_id)
                case "server", "stop":
                    conn.compute.stop_server(remote_id)
                case "server", "reboot":
                    conn.compute.reboot_server(remote_id, "HARD" if args.get("hard") else "SOFT")
                case "router", "add_interface":
                    router = conn.network.get_router(remote_id)
                    conn.network.add_interface_to_router(router, subnet_id=args["subnet_id"])
                case "router", "remove_interface":
                    router = conn.network.get_router(remote_id)
                    conn.network.remove_interface_from_router(router, subnet_id=args["subnet_id"])
                case "router", "set_gateway":
                    conn.network.update_router(
                        remote_id, external_gateway_info={"network_id": args["network_id"]}
                    )
                case "router", "clear_gateway":
                    conn.network.update_router(remote_id, external_gateway_info={})
                case "floating_ip", "associate":
                    ports = list(conn.network.ports(device_id=args["server_id"]))
                    if not ports:
                        raise PoolRejected(
                            f"pool {self.pool}: the server has no port to associate with",
                            pool=self.pool,
                            field="server",
                        )
                    conn.network.update_ip(remote_id, port_id=ports[0].id)
                case "floating_ip", "disassociate":
                    conn.network.update_ip(remote_id, port_id=None)
                case _:
                    raise PoolRejected(f"no action {action!r} on a {kind}", pool=self.pool)

    def find_catalog(self, *, kind: CatalogKind, ref: str | None = None) -> list[RemoteObject]:
        with translate(self.pool, f"list_{kind}s"):
            if kind == "flavor":
                found = [_flavor(f) for f in self.conn.compute.flavors(details=True)]
            elif kind == "image":
                found = [_image(i) for i in self.conn.image.images(visibility="public")]
            else:
                found = [_network(n) for n in self.conn.network.networks(is_router_external=True)]
        if ref is None:
            return found
        return [o for o in found if ref in (o.remote_id, o.name)]

    def capacity(self) -> Capacity | None:
        now = time.monotonic()
        if self._capacity_cache and now - self._capacity_cache[0] < CAPACITY_TTL_SECONDS:
            return self._capacity_cache[1]
        free = {"VCPU": 0.0, "MEMORY_MB": 0.0, "DISK_GB": 0.0}
        placement = self.conn.placement
        with translate(self.pool, "placement_capacity"):
            providers = placement.get("/resource_providers").json()["resource_providers"]
            for rp in providers:
                inventories = placement.get(f"/resource_providers/{rp['uuid']}/inventories").json()
                usages = placement.get(f"/resource_providers/{rp['uuid']}/usages").json()
                for rc in free:
                    inv = inventories["inventories"].get(rc)
                    if inv:
                        total = (inv["total"] - inv["reserved"]) * inv["allocation_ratio"]
                        free[rc] += total - usages["usages"].get(rc, 0)
        result = Capacity(
            vcpus=int(free["VCPU"]), ram_mb=int(free["MEMORY_MB"]), disk_gb=int(free["DISK_GB"])
        )
        self._capacity_cache = (now, result)
        return result
