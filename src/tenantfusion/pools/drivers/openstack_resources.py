"""Tenant resources on OpenStack (Nova, Neutron, Cinder, Glance, Placement) through
openstacksdk.

One table says, per kind, which proxy call lists, gets, creates and deletes it and how the
SDK object becomes a ``RemoteObject``; the methods below are generic over it.
"""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import structlog
from openstack import connection
from openstack import exceptions as sdk_exc

from tenantfusion.errors import (
    PoolAuthFailed,
    PoolConflict,
    PoolError,
    PoolObjectNotFound,
    PoolRejected,
)
from tenantfusion.pools.drivers.openstack_admin import AdminAccess
from tenantfusion.pools.drivers.openstack_errors import translate
from tenantfusion.pools.drivers.remote import (
    RECORD_MARK,
    Capacity,
    CatalogKind,
    Kind,
    ListCall,
    RemoteObject,
    next_page,
    record_description,
    record_tag,
)

log = structlog.get_logger(__name__)

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
    """The id in a reference Nova gives as a dict or an empty string (boot from volume)."""
    return ref.get("id") if isinstance(ref, dict) else None


def _server(s: dict[str, Any]) -> RemoteObject:
    power = s.get("OS-EXT-STS:power_state")
    flavor = s.get("flavor") or {}
    return RemoteObject(
        kind="server",
        remote_id=s["id"],
        name=s.get("name") or "",
        status=s.get("status") or "",
        project_id=s.get("tenant_id"),
        description=(s.get("metadata") or {}).get("tf_record", ""),
        attrs={
            "flavor": flavor.get("original_name") or flavor.get("id"),
            "image_id": _id_of(s.get("image")),
            "addresses": {
                net: [a["addr"] for a in entries if "addr" in a]
                for net, entries in (s.get("addresses") or {}).items()
            },
            "power_state": POWER_STATES.get(power) if power is not None else None,
            "task_state": s.get("OS-EXT-STS:task_state"),
        },
    )


def _network(n: dict[str, Any]) -> RemoteObject:
    return RemoteObject(
        kind="network",
        remote_id=n["id"],
        name=n.get("name") or "",
        status=n.get("status") or "",
        project_id=n.get("project_id") or n.get("tenant_id"),
        description=n.get("description") or "",
        attrs={
            "subnet_ids": list(n.get("subnets") or []),
            "mtu": n.get("mtu"),
            "is_external": bool(n.get("router:external")),
        },
    )


def _subnet(s: dict[str, Any]) -> RemoteObject:
    return RemoteObject(
        kind="subnet",
        remote_id=s["id"],
        name=s.get("name") or "",
        status="ACTIVE",  # Neutron subnets have no status of their own
        project_id=s.get("project_id") or s.get("tenant_id"),
        description=s.get("description") or "",
        attrs={
            "network_id": s.get("network_id"),
            "cidr": s.get("cidr"),
            "ip_version": s.get("ip_version"),
            "gateway_ip": s.get("gateway_ip"),
            "enable_dhcp": bool(s.get("enable_dhcp")),
        },
    )


def _router(r: dict[str, Any], interfaces: Mapping[str, list[str]]) -> RemoteObject:
    gateway = r.get("external_gateway_info") or {}
    return RemoteObject(
        kind="router",
        remote_id=r["id"],
        name=r.get("name") or "",
        status=r.get("status") or "",
        project_id=r.get("project_id") or r.get("tenant_id"),
        description=r.get("description") or "",
        attrs={
            "is_distributed": r.get("distributed"),  # absent unless the caller is admin
            "external_network_id": gateway.get("network_id"),
            "interface_subnet_ids": interfaces.get(r["id"], []),
        },
    )


def _floating_ip(f: dict[str, Any]) -> RemoteObject:
    details = f.get("port_details") or {}
    return RemoteObject(
        kind="floating_ip",
        remote_id=f["id"],
        name=f.get("floating_ip_address") or "",
        status=f.get("status") or "",
        project_id=f.get("project_id") or f.get("tenant_id"),
        description=f.get("description") or "",
        attrs={
            "address": f.get("floating_ip_address"),
            "port_id": f.get("port_id"),
            "fixed_ip": f.get("fixed_ip_address"),
            "device_id": details.get("device_id"),
            "network_id": f.get("floating_network_id"),
        },
    )


def _volume_mark(v: dict[str, Any]) -> str:
    """The record a volume names: its ``tf_record`` metadata (a v1 create), else its
    description when that is a mark (a facade create: the client's metadata stays its
    own, so the facade marks the description only)."""
    mark = (v.get("metadata") or {}).get("tf_record") or v.get("description") or ""
    return str(mark) if str(mark).startswith(RECORD_MARK) else ""


def _volume(v: dict[str, Any]) -> RemoteObject:
    attachments = v.get("attachments") or []
    return RemoteObject(
        kind="volume",
        remote_id=v["id"],
        name=v.get("name") or "",
        status=v.get("status") or "",
        project_id=v.get("os-vol-tenant-attr:tenant_id"),
        description=_volume_mark(v),
        attrs={
            "size_gb": v.get("size"),
            "server_ids": [a["server_id"] for a in attachments if a.get("server_id")],
            "devices": {a["server_id"]: a.get("device") for a in attachments if a.get("server_id")},
            "volume_type": v.get("volume_type"),
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
    """One kind in its API's own terms: raw JSON through the SDK's service adapters.

    (openstacksdk's Resource objects cost more CPU per listed object than the HTTP call
    itself on a busy host; lists are the hot path, so they stay plain JSON.)
    """

    service: str  # connection attribute: compute / network / block_storage
    path: str  # collection path
    key: str  # singular JSON key
    plural: str
    convert: Callable[[dict[str, Any]], RemoteObject]
    list_path: str = ""  # when it differs from path (Nova's /servers/detail)
    microversion: str | None = None


#: A token this close to expiry is not handed to ``list_call`` (``list_objects`` renews it).
LIST_TOKEN_MARGIN_SECONDS = 60
#: The service type an ``OpenStack-API-Version`` header names, per SDK service.
MICROVERSION_SERVICE = {"compute": "compute", "block_storage": "volume"}

KINDS: dict[str, KindOps] = {
    # 2.47: flavor embedded with original_name; 2.52: tags in the create call
    "server": KindOps(
        "compute", "/servers", "server", "servers", _server, "/servers/detail", "2.52"
    ),
    "network": KindOps("network", "/networks", "network", "networks", _network),
    "subnet": KindOps("network", "/subnets", "subnet", "subnets", _subnet),
    "router": KindOps("network", "/routers", "router", "routers", lambda r: _router(r, {})),
    "floating_ip": KindOps("network", "/floatingips", "floatingip", "floatingips", _floating_ip),
    # 3.67: the project id is optional in URLs (the test bed's endpoint has none)
    "volume": KindOps(
        "block_storage", "/volumes", "volume", "volumes", _volume, "/volumes/detail", "3.67"
    ),
}


def _body(kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The API's create body for our spec (our field names → the API's)."""
    if kind == "server":
        return {
            "name": spec["name"],
            "flavorRef": spec["flavor_id"],
            "imageRef": spec["image_id"],
            "networks": [{"uuid": spec["network_id"]}],
            "metadata": {"tf_record": spec["description"]},
            "tags": [spec["tag"]] if spec.get("tag") else [],
        }
    if kind == "subnet":
        body = {
            "name": spec["name"],
            "description": spec["description"],
            "network_id": spec["network_id"],
            "cidr": spec["cidr"],
            "ip_version": spec["ip_version"],
            "enable_dhcp": spec.get("enable_dhcp", True),
            "dns_nameservers": list(spec.get("dns_nameservers", [])),
        }
        if spec.get("gateway_ip"):
            body["gateway_ip"] = spec["gateway_ip"]
        return body
    if kind == "floating_ip":
        return {"floating_network_id": spec["network_id"], "description": spec["description"]}
    if kind == "volume":  # Cinder has no tags: the record is found by its metadata
        return {
            "name": spec["name"],
            "size": spec["size_gb"],
            "description": spec["description"],
            "metadata": {"tf_record": spec["description"]},
            **({"volume_type": spec["volume_type"]} if spec.get("volume_type") else {}),
        }
    if kind == "router":
        body = {"name": spec["name"], "description": spec["description"]}
        if spec.get("external_network_id"):
            body["external_gateway_info"] = {"network_id": spec["external_network_id"]}
        if spec.get("distributed"):
            body["distributed"] = True
        return body
    return {"name": spec["name"], "description": spec["description"]}


class OpenStackResources(AdminAccess):
    """The tenant-resource half of the OpenStack driver (mixed into OpenStackDriver)."""

    pool: str
    _tenant_conn: Callable[[Any], connection.Connection]

    _capacity_cache: tuple[float, Capacity | None] | None = None

    def _adapter(self, session: Any, kind: str) -> Any:
        """The tenant's service adapter (authenticates and discovers on first use). A 404
        here is Keystone no longer knowing the tenant's credential, never a missing object.
        Usually answered from the connection's cache, so its success does not close the
        pool's circuit (the call made with the adapter does)."""
        service = KINDS[kind].service
        try:
            with translate(self.pool, f"connect_{service}", closes=False):
                return getattr(self._tenant_conn(session), service)
        except PoolObjectNotFound as e:
            raise PoolAuthFailed(
                f"pool {self.pool} no longer knows the tenant's credential", pool=self.pool
            ) from e

    def _base_url(self, adapter: Any) -> str:
        """The adapter's versioned endpoint, looked up in the catalog once per token (a
        catalog lookup copies the whole catalog: on the hot path of lists, that cost more
        than the rest of the call). A new token (re-authentication) looks it up again."""
        access = getattr(adapter.session.auth, "auth_ref", None)
        cached = self._endpoints.get(adapter)
        if cached is not None and access is not None and cached[0] is access:
            return cached[1]
        url = str(adapter.get_endpoint()).rstrip("/")
        self._endpoints[adapter] = (adapter.session.auth.auth_ref, url)
        return url

    @cached_property
    def _endpoints(self) -> weakref.WeakKeyDictionary[Any, tuple[Any, str]]:
        return weakref.WeakKeyDictionary()

    def _call(self, adapter: Any, method: str, url: str, ops: KindOps, **kw: Any) -> Any:
        if ops.microversion:
            kw["microversion"] = ops.microversion
        response = getattr(adapter, method)(url, **kw)
        sdk_exc.raise_from_response(response)  # the SDK's adapters don't raise on their own
        return response

    def _router_interfaces(self, net: Any, **filters: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        params = [("device_owner", o) for o in ROUTER_INTERFACE_OWNERS] + list(filters.items())
        ports = self._call(net, "get", "/ports", KINDS["network"], params=params).json()
        for port in ports["ports"]:
            found.setdefault(port["device_id"], []).extend(
                ip["subnet_id"] for ip in port.get("fixed_ips") or []
            )
        return found

    def _convert(self, adapter: Any, kind: str, raw: dict[str, Any]) -> RemoteObject:
        if kind == "router":
            return _router(raw, self._router_interfaces(adapter, device_id=raw["id"]))
        return KINDS[kind].convert(raw)

    def create_object(
        self, *, session: Any, kind: Kind, project_id: str, spec: Mapping[str, Any]
    ) -> RemoteObject:
        ops = KINDS[kind]
        body = _body(kind, spec)
        if body.get("distributed"):
            # admin-only attribute under Neutron's default policy (DVR rule R23): this one
            # call uses the pool admin, creating the router in the tenant's project
            adapter, body["project_id"] = self.conn.network, project_id
        else:
            adapter = self._adapter(session, kind)
        with translate(self.pool, f"create_{kind}"):
            created = self._call(adapter, "post", ops.path, ops, json={ops.key: body}).json()
        raw = created[ops.key]
        if ops.service == "network" and spec.get("tag"):
            self._tag(adapter, ops, raw["id"], str(spec["tag"]))
        if kind == "server":  # Nova answers a create with little more than the id
            try:
                found = self.get_object(session=session, kind=kind, remote_id=raw["id"])
            except PoolError:  # the server exists: a failed read-back must not hide it
                found = None
            if found is not None:
                return found
            return RemoteObject(
                kind="server",
                remote_id=raw["id"],
                name=str(spec.get("name", "")),
                status="BUILD",
                description=str(spec.get("description", "")),
            )
        return ops.convert(raw)

    def _tag(self, adapter: Any, ops: KindOps, remote_id: str, tag: str) -> None:
        """Add the record tag to a Neutron object (Neutron takes no tags in a create; the
        description written in the create is what makes the object findable meanwhile)."""
        try:
            with translate(self.pool, f"tag_{ops.key}"):
                self._call(adapter, "put", f"{ops.path}/{remote_id}/tags/{tag}", ops)
        except PoolError as e:  # a pool without the tag extension: the description serves
            log.info("pool.tag_skipped", pool=self.pool, kind=ops.key, reason=e.detail)

    def find_by_record(self, *, session: Any, kind: Kind, record_id: str) -> RemoteObject | None:
        ops = KINDS[kind]
        adapter = self._adapter(session, kind)
        if kind == "server":  # tags were set in the create call itself
            params = {"tags": record_tag(record_id)}
        elif kind == "volume":  # so was the metadata
            params = {"metadata": json.dumps({"tf_record": record_description(record_id)})}
        else:  # the description is written by the create call; the tag may lag behind it
            params = {"description": record_description(record_id)}
        try:
            with translate(self.pool, f"find_{kind}"):
                page = self._call(adapter, "get", ops.list_path or ops.path, ops, params=params)
                found = page.json()[ops.plural]
                if not found:
                    return None
                return self._convert(adapter, kind, found[0])
        except PoolRejected:
            if kind != "volume":
                raise
            # a Cinder whose resource filters let only admins filter by metadata: look
            # through the tenant's volumes instead
            mark = record_description(record_id)
            listed = self.list_objects(session=session, kind=kind)
            return next((v for v in listed if v.description == mark), None)

    def get_object(self, *, session: Any, kind: Kind, remote_id: str) -> RemoteObject | None:
        ops = KINDS[kind]
        adapter = self._adapter(session, kind)
        try:
            with translate(self.pool, f"get_{kind}"):
                raw = self._call(adapter, "get", f"{ops.path}/{remote_id}", ops).json()[ops.key]
                return self._convert(adapter, kind, raw)
        except PoolObjectNotFound:
            return None

    def list_objects(self, *, session: Any, kind: Kind) -> list[RemoteObject]:
        ops = KINDS[kind]
        adapter = self._adapter(session, kind)
        found: list[RemoteObject] = []
        with translate(self.pool, f"list_{kind}"):
            first = self._base_url(adapter) + (ops.list_path or ops.path)
            access = getattr(session.auth, "auth_ref", None)
            self._list_urls.setdefault(session, {})[kind] = (access, first)
            url: str | None = first
            while url:
                page = self._call(adapter, "get", url, ops).json()
                if kind == "router":
                    interfaces = self._router_interfaces(adapter)
                    found += [_router(r, interfaces) for r in page[ops.plural]]
                else:
                    found += [ops.convert(o) for o in page[ops.plural]]
                url = next_page(page, ops.plural)
        return found

    @cached_property
    def _list_urls(self) -> weakref.WeakKeyDictionary[Any, dict[str, tuple[Any, str]]]:
        """Per tenant session and kind: the token (access info) a list last used, and
        the list's URL (what ``list_call`` reuses)."""
        return weakref.WeakKeyDictionary()

    def list_call(self, *, session: Any, kind: Kind) -> ListCall | None:
        """Lists are the hot path: sent from the event loop with the tenant's cached token,
        they skip a thread and keystoneauth's per-call work. Offered only when nothing
        needs the pool first: this session listed this kind before (service discovery and
        catalog lookup done), with the token it still holds, which is not about to expire.
        Otherwise, and for routers (their interface ports are listed too), None: the
        caller uses ``list_objects``."""
        if kind == "router":
            return None
        access = getattr(getattr(session, "auth", None), "auth_ref", None)
        known = self._list_urls.get(session, {}).get(kind)
        if access is None or known is None or known[0] is not access:
            return None
        if access.will_expire_soon(stale_duration=LIST_TOKEN_MARGIN_SECONDS):
            return None
        ops = KINDS[kind]
        headers = {"X-Auth-Token": str(access.auth_token), "Accept": "application/json"}
        if ops.microversion:
            service = MICROVERSION_SERVICE[ops.service]
            headers["OpenStack-API-Version"] = f"{service} {ops.microversion}"
        return ListCall(
            url=known[1],
            headers=headers,
            plural=ops.plural,
            convert=ops.convert,
            operation=f"list_{kind}",
        )

    def delete_object(self, *, session: Any, kind: Kind, remote_id: str) -> None:
        ops = KINDS[kind]
        try:
            with translate(self.pool, f"delete_{kind}"):
                self._call(self._adapter(session, kind), "delete", f"{ops.path}/{remote_id}", ops)
        except PoolObjectNotFound:
            pass  # gone already
        except PoolRejected as e:
            if kind != "volume":
                raise
            # Cinder answers 400 for a volume that is attached (or attaching, detaching):
            # in use, like Neutron's 409 for a network with ports
            raise PoolConflict(e.detail, pool=self.pool) from e

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
                    conn.network.add_interface_to_router(router, subnet=args["subnet_id"])
                case "router", "remove_interface":
                    router = conn.network.get_router(remote_id)
                    conn.network.remove_interface_from_router(router, subnet=args["subnet_id"])
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
                case "volume", "attach":  # through Nova, which drives Cinder's attachment
                    conn.compute.create_volume_attachment(args["server_id"], volume=remote_id)
                case "volume", "detach":
                    conn.compute.delete_volume_attachment(
                        args["server_id"], remote_id, ignore_missing=False
                    )
                case _:
                    raise PoolRejected(f"no action {action!r} on a {kind}", pool=self.pool)

    def reserved_servers(
        self, *, project_id: str, reservation_id: str | None = None, server_id: str | None = None
    ) -> list[RemoteObject]:
        compute = self.conn.compute
        with translate(self.pool, "list_reservation"):
            if reservation_id is None and server_id is not None:
                try:
                    first = compute.get_server(server_id)
                except sdk_exc.NotFoundException:
                    return []
                if first.project_id == project_id:
                    reservation_id = first.reservation_id
            if not reservation_id:
                return []
            found = compute.servers(
                all_projects=True, project_id=project_id, reservation_id=reservation_id
            )
            return [  # Nova matches the filter as a pattern: keep exact matches only
                RemoteObject(
                    kind="server",
                    remote_id=s.id,
                    name=s.name or "",
                    status=s.status or "",
                    project_id=s.project_id,
                )
                for s in found
                if s.reservation_id == reservation_id and s.project_id == project_id
            ]

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
        totals = dict(free)
        with translate(self.pool, "placement_capacity"):  # its token is got here too
            placement = self.conn.placement
            providers = placement.get("/resource_providers").json()["resource_providers"]
            for rp in providers:
                inventories = placement.get(f"/resource_providers/{rp['uuid']}/inventories").json()
                usages = placement.get(f"/resource_providers/{rp['uuid']}/usages").json()
                for rc in free:
                    inv = inventories["inventories"].get(rc)
                    if inv:
                        total = (inv["total"] - inv["reserved"]) * inv["allocation_ratio"]
                        totals[rc] += total
                        free[rc] += total - usages["usages"].get(rc, 0)
        result = Capacity(
            vcpus=int(free["VCPU"]),
            ram_mb=int(free["MEMORY_MB"]),
            disk_gb=int(free["DISK_GB"]),
            total_vcpus=int(totals["VCPU"]),
            total_ram_mb=int(totals["MEMORY_MB"]),
            total_disk_gb=int(totals["DISK_GB"]),
        )
        self._capacity_cache = (now, result)
        return result
