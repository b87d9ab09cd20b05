"""Tenant subnets: always inside one of the tenant's networks, so in that network's pool."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.platform.principal import Principal
from tenantfusion.resources import engine
from tenantfusion.resources import networks as network_kind
from tenantfusion.resources.engine import ResourceKind, Row
from tenantfusion.resources.schemas import SubnetCreate, SubnetRead


def _read(row: Row) -> SubnetRead:
    attrs = row.remote.attrs
    return SubnetRead(
        **row.base(),
        network=row.ref("network", attrs.get("network_id")),
        cidr=attrs["cidr"],
        ip_version=attrs["ip_version"],
        gateway_ip=attrs.get("gateway_ip"),
        enable_dhcp=attrs.get("enable_dhcp", True),
    )


KIND = ResourceKind(name="subnet", needs=("network",), read=_read)


def create(
    *, sessions: sessionmaker[Session], actor: Principal, data: SubnetCreate, settings: Settings
) -> SubnetRead:
    """Create a subnet in one of the tenant's networks (its pool)."""
    with sessions() as db:
        network = engine.routed(
            db=db,
            tenant_id=engine.tenant_of(actor),
            kind=network_kind.KIND.name,
            record_id=data.network,
            settings=settings,
        )
    return engine.create(
        sessions=sessions,
        actor=actor,
        kind=KIND,
        where=network.where,
        spec={
            "name": data.name,
            "network_id": network.record.remote_id,
            "cidr": data.cidr,
            "ip_version": 6 if ":" in data.cidr else 4,
            "gateway_ip": data.gateway_ip,
            "enable_dhcp": data.enable_dhcp,
            "dns_nameservers": data.dns_nameservers,
        },
    )


_service = engine.Service(KIND)
list_ = _service.list_
list_async = _service.list_async
show = _service.show
delete = _service.delete
