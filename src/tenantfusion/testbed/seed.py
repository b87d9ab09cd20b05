"""What every full pool offers after setup: flavors, a tiny public image, a public network."""

from __future__ import annotations

from typing import cast

import openstack.connection
from openstack.image.v2._proxy import Proxy as ImageProxy

from tenantfusion.testbed.neutron import PHYSNET

#: name -> (vcpus, ram MiB, disk GiB)
FLAVORS: dict[str, tuple[int, int, int]] = {
    "m1.nano": (1, 128, 1),
    "m1.tiny": (1, 512, 1),
    "m1.small": (1, 2048, 20),
    "m1.medium": (2, 4096, 40),
}
IMAGE_NAME = "cirros-tiny"
IMAGE_SIZE = 64 * 1024  # bytes of zeros: the fake driver boots anything
PUBLIC_NETWORK = "public"
PUBLIC_SUBNET = "public-subnet"
PUBLIC_CIDR = "203.0.113.0/24"  # TEST-NET-3: only ever a database row here


def ensure_flavors(conn: openstack.connection.Connection) -> None:
    """Create the public flavors that are missing."""
    existing = {f.name for f in conn.compute.flavors(is_public=None)}
    for name, (vcpus, ram, disk) in FLAVORS.items():
        if name not in existing:
            conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True)


def ensure_image(conn: openstack.connection.Connection) -> None:
    """Upload the 64 KiB raw public image `cirros-tiny` unless an active one exists."""
    images = cast(ImageProxy, conn.image)
    for image in images.images(name=IMAGE_NAME):
        if image.status == "active":
            return
        images.delete_image(image)
    images.create_image(
        name=IMAGE_NAME,
        data=bytes(IMAGE_SIZE),
        disk_format="raw",
        container_format="bare",
        visibility="public",
        allow_duplicates=True,
    )


def ensure_public_network(conn: openstack.connection.Connection) -> None:
    """Create the external flat network `public` and its floating-IP subnet."""
    network = conn.network.find_network(PUBLIC_NETWORK)
    if network is None:
        network = conn.network.create_network(
            name=PUBLIC_NETWORK,
            is_router_external=True,
            provider_network_type="flat",
            provider_physical_network=PHYSNET,
        )
    if conn.network.find_subnet(PUBLIC_SUBNET, network_id=network.id) is None:
        conn.network.create_subnet(
            name=PUBLIC_SUBNET,
            network_id=network.id,
            ip_version=4,
            cidr=PUBLIC_CIDR,
            gateway_ip="203.0.113.1",
            allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.250"}],
            is_dhcp_enabled=False,
        )


def ensure_all(conn: openstack.connection.Connection) -> None:
    """Flavors, image and public network (idempotent)."""
    ensure_flavors(conn)
    ensure_image(conn)
    ensure_public_network(conn)
