"""What a driver returns for tenant resources: plain frozen values, never SDK objects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: Kinds of tenant objects a driver creates, lists and deletes.
Kind = Literal["server", "network", "subnet", "router", "floating_ip", "volume"]
#: What a purge removes from a tenant's project, admin-side (in ``mapping.purge`` order).
PurgeKind = Literal[
    "floating_ip", "server", "volume", "router", "port", "subnet", "network", "security_group"
]
#: Read-only pool catalogue kinds.
CatalogKind = Literal["flavor", "image", "external_network"]


#: How an object names the routing record it belongs to, in its description (every kind).
RECORD_MARK = "tenantfusion "


def record_tag(record_id: str) -> str:
    """The tag every object carries for its routing record (Nova server tags at create,
    Neutron tags right after): what a create retry or reconcile looks up."""
    return f"tf-rec-{record_id}"


def record_description(record_id: str) -> str:
    """The description (servers: ``tf_record`` metadata) naming the record, written in the
    create call itself, so an object is findable even if the process dies right after."""
    return f"{RECORD_MARK}{record_id}"


@dataclass(frozen=True)
class RemoteObject:
    """One object in a pool, as the pool reports it.

    ``attrs`` holds the kind's own fields, in pool terms (remote ids):

    - server: flavor, image_id, addresses {network name: [ip]}, power_state, task_state,
      network_ids
    - network: subnet_ids, mtu, is_external
    - subnet: network_id, cidr, ip_version, gateway_ip, enable_dhcp
    - router: is_distributed (None if hidden from the caller), external_network_id,
      interface_subnet_ids
    - floating_ip: address, port_id, fixed_ip, device_id (the server), network_id
    - volume: size_gb, server_ids (attached to), devices {server id: device}, volume_type
    - flavor: vcpus, ram_mb, disk_gb · image: min_disk_gb, size_bytes, visibility, owner
    """

    kind: str
    remote_id: str
    name: str
    status: str
    project_id: str | None = None
    description: str = ""
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Capacity:
    """Free capacity of a pool's compute hosts (Placement: (total-reserved)*ratio - used),
    and the ``total_*`` it is taken from ((total-reserved)*ratio; 0 when not known)."""

    vcpus: int
    ram_mb: int
    disk_gb: int
    total_vcpus: int = 0
    total_ram_mb: int = 0
    total_disk_gb: int = 0


@dataclass(frozen=True)
class ListCall:
    """A kind's list as plain HTTP GETs of JSON pages (``PoolDriver.list_call``): the
    caller sends them from the event loop (``pools.aio.list_objects``), holding no thread,
    instead of calling ``list_objects`` in one."""

    #: the first page
    url: str
    #: everything the pool needs (the tenant's token, microversion); sent on every page
    headers: Mapping[str, str]
    #: the answer's key holding the items; the next page is the ``rel: next`` link in
    #: ``<plural>_links`` (OpenStack's convention)
    plural: str
    convert: Callable[[dict[str, Any]], RemoteObject]
    #: the operation's name in metrics and errors (``list_server``)
    operation: str = "list"

    def next_url(self, page: Mapping[str, Any]) -> str | None:
        return next_page(page, self.plural)


def next_page(page: Mapping[str, Any], plural: str) -> str | None:
    """The ``rel: next`` link in a list answer's ``<plural>_links``, or None (the last)."""
    links = page.get(f"{plural}_links") or []
    return next((lk["href"] for lk in links if lk.get("rel") == "next"), None)
