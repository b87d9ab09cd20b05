"""Pool drivers by kind."""

from tenantfusion.pools.drivers.base import PoolDriver
from tenantfusion.pools.drivers.openstack import OpenStackDriver

DRIVERS: dict[str, type[PoolDriver]] = {"openstack": OpenStackDriver}

__all__ = ["DRIVERS", "PoolDriver"]
