"""Register service users, services and endpoints of a full pool in its Keystone."""

from __future__ import annotations

from typing import cast

import openstack.connection
from openstack.identity.v3._proxy import Proxy as IdentityProxy

from tenantfusion.testbed.context import REGION, SERVICE_PROJECT, PoolContext

#: written once the catalog holds SERVICES; it lists them, so a pool set up before a
#: service was added (Cinder) registers the new one on its next start
MARKER = ".catalog-ready"

#: service user -> (catalog type, endpoint path)
SERVICES: dict[str, tuple[str, str]] = {
    "placement": ("placement", ""),
    "glance": ("image", ""),
    "neutron": ("network", ""),
    "nova": ("compute", "/v2.1"),
    # Cinder v3 without a project id in its URLs: `block-storage` is the official type,
    # and keystoneauth matches its alias `volumev3` (Nova's default catalog_info) to it
    "cinder": ("block-storage", "/v3"),
}


def _names() -> str:
    return " ".join(sorted(SERVICES)) + "\n"


def is_registered(ctx: PoolContext) -> bool:
    """True when the pool's catalog was registered with every service of SERVICES."""
    marker = ctx.dir / MARKER
    return marker.exists() and marker.read_text() == _names()


def register(ctx: PoolContext, conn: openstack.connection.Connection) -> None:
    """Idempotently create project `service`, role `service`, users and endpoints, then
    write the marker."""
    identity = cast(IdentityProxy, conn.identity)
    project = identity.find_project(SERVICE_PROJECT, domain_id="default")
    if project is None:
        project = identity.create_project(name=SERVICE_PROJECT, domain_id="default")
    admin = identity.find_role("admin")
    if admin is None:
        raise RuntimeError("keystone bootstrap did not create the admin role")
    service_role = identity.find_role("service") or identity.create_role(name="service")
    for user_name, (service_type, path) in SERVICES.items():
        user = identity.find_user(user_name, domain_id="default")
        if user is None:
            user = identity.create_user(
                name=user_name,
                domain_id="default",
                password=ctx.secrets["service_password"],
                default_project_id=project.id,
            )
        else:
            identity.update_user(user, password=ctx.secrets["service_password"])
        for role in (admin, service_role):
            identity.assign_project_role_to_user(project, user, role)
        service = identity.find_service(user_name)
        if service is None:
            service = identity.create_service(name=user_name, type=service_type)
        existing = {e.interface for e in identity.endpoints(service_id=service.id)}
        for interface in ("public", "internal"):
            if interface not in existing:
                identity.create_endpoint(
                    service_id=service.id,
                    interface=interface,
                    url=ctx.url(user_name, path),
                    region_id=REGION,
                )
    (ctx.dir / MARKER).write_text(_names())
