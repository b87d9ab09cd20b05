"""Local real-OpenStack pools for tests and the demo (loopback only, under var/testbed).

from tenantfusion.testbed import ensure_pools, stop_pools, PoolInfo
pools = ensure_pools(count=2, kind="keystone")   # list[PoolInfo], idempotent
"""

from tenantfusion.testbed.client import connect
from tenantfusion.testbed.pool import PoolInfo
from tenantfusion.testbed.service import (
    destroy_pools,
    ensure_pools,
    load_pools,
    service_pids,
    start_service,
    status,
    stop_pools,
    stop_service,
)

__all__ = [
    "PoolInfo",
    "connect",
    "destroy_pools",
    "ensure_pools",
    "load_pools",
    "service_pids",
    "start_service",
    "status",
    "stop_pools",
    "stop_service",
]
