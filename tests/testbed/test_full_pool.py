"""A full test-bed pool boots a real server on a real network, serves floating IPs and
makes volumes on Cinder's fake driver."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import openstack.connection
import pytest
from keystoneauth1 import exceptions as ks_exceptions

from tenantfusion.testbed import PoolInfo, connect, ensure_pools, start_service, stop_service

pytestmark = pytest.mark.pools


@pytest.fixture(scope="module")
def pool() -> PoolInfo:
    return ensure_pools(count=1, kind="full")[0]


@pytest.fixture
def project_conn(pool: PoolInfo) -> Iterator[openstack.connection.Connection]:
    """The pool's admin, scoped to a temporary project that is deleted afterwards."""
    admin = connect(pool)
    project = admin.identity.create_project(
        name=f"tf-testbed-{uuid.uuid4().hex[:8]}", domain_id="default"
    )
    user = admin.identity.find_user(pool.username, domain_id="default")
    for role in ("admin", "member"):
        admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role(role))
    auth = {**pool.auth(), "project_id": project.id}
    del auth["project_name"], auth["project_domain_name"]
    conn = openstack.connection.Connection(auth=auth, region_name=pool.region_name)
    try:
        yield conn
    finally:
        admin.identity.delete_project(project)


def test_seeded_flavors_image_and_public_network(pool: PoolInfo) -> None:
    conn = connect(pool)
    assert {"m1.nano", "m1.tiny", "m1.small"} <= {f.name for f in conn.compute.flavors()}
    image = conn.image.find_image("cirros-tiny")
    assert image is not None and image.status == "active" and image.visibility == "public"
    public = conn.network.find_network("public")
    assert public is not None and public.is_router_external
    assert "dvr" in {e.alias for e in conn.network.extensions()}


def test_cinder_makes_a_volume_with_no_block_device(
    pool: PoolInfo, project_conn: openstack.connection.Connection
) -> None:
    admin = connect(pool)
    assert f":{pool.ports['cinder']}/" in admin.block_storage.get_endpoint()
    up = {(s.binary, s.state) for s in admin.block_storage.services()}
    assert {("cinder-scheduler", "up"), ("cinder-volume", "up")} <= up
    volume = project_conn.block_storage.create_volume(name="probe", size=1)
    volume = project_conn.block_storage.wait_for_status(volume, "available", wait=60)
    assert volume.size == 1
    project_conn.block_storage.delete_volume(volume)
    project_conn.block_storage.wait_for_delete(volume, wait=60)


def test_boot_server_to_active_with_floating_ip(
    project_conn: openstack.connection.Connection,
) -> None:
    conn = project_conn
    name = f"tf-testbed-{uuid.uuid4().hex[:8]}"
    public = conn.network.find_network("public", ignore_missing=False)
    flavor = conn.compute.find_flavor("m1.tiny", ignore_missing=False)
    image = conn.image.find_image("cirros-tiny", ignore_missing=False)
    with ExitStack() as cleanup:  # undone in reverse order, also on failure
        network = conn.network.create_network(name=name)
        cleanup.callback(conn.network.delete_network, network)
        subnet = conn.network.create_subnet(
            name=name, network_id=network.id, ip_version=4, cidr="192.0.2.0/24"
        )
        router = conn.network.create_router(
            name=name, external_gateway_info={"network_id": public.id}
        )
        cleanup.callback(conn.network.delete_router, router)
        conn.network.add_interface_to_router(router, subnet=subnet.id)
        cleanup.callback(conn.network.remove_interface_from_router, router, subnet.id)

        server = conn.compute.create_server(
            name=name, flavor_id=flavor.id, image_id=image.id, networks=[{"uuid": network.id}]
        )
        cleanup.callback(conn.compute.wait_for_delete, server, wait=120)
        cleanup.callback(conn.compute.delete_server, server)
        server = conn.compute.wait_for_server(server, status="ACTIVE", wait=120)
        assert server.status == "ACTIVE", server.fault

        port = next(iter(conn.network.ports(device_id=server.id)))
        ip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
        cleanup.callback(conn.network.delete_ip, ip)
        assert ipaddress.ip_address(ip.floating_ip_address) in ipaddress.ip_network(
            "203.0.113.0/24"
        ), ip

        dvr = conn.network.create_router(name=f"{name}-dvr", distributed=True)
        cleanup.callback(conn.network.delete_router, dvr)
        assert dvr.is_distributed is True, dvr


def test_nova_api_outage_and_recovery(pool: PoolInfo) -> None:
    assert stop_service(pool, "nova") is True
    try:
        with pytest.raises(ks_exceptions.ConnectFailure):
            list(connect(pool).compute.flavors())
        assert connect(pool).network.find_network("public") is not None
    finally:
        start_service(pool, "nova")
    assert connect(pool).compute.find_flavor("m1.tiny") is not None
