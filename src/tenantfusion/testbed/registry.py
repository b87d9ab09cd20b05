"""The services a pool can run, in start order, and which ones each pool kind has."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import openstack.connection

from tenantfusion.testbed import cinder, glance, keystone, neutron, nova, placement
from tenantfusion.testbed.context import PoolContext
from tenantfusion.testbed.process import Process


@dataclass(frozen=True)
class ServiceSpec:
    """How to set up (once), start and finish starting one OpenStack service."""

    name: str
    setup: Callable[[PoolContext], None]
    processes: Callable[[PoolContext], Sequence[Process]]
    before_start: Callable[[PoolContext], None] | None = None
    after_start: Callable[[PoolContext, openstack.connection.Connection, float], None] | None = None
    #: the process stopped by `stop_service(pool, name)` to simulate an API outage
    api_process: str = ""


SERVICES: dict[str, ServiceSpec] = {
    "keystone": ServiceSpec("keystone", keystone.setup, keystone.processes, api_process="keystone"),
    "placement": ServiceSpec(
        "placement", placement.setup, placement.processes, api_process="placement"
    ),
    "glance": ServiceSpec("glance", glance.setup, glance.processes, api_process="glance"),
    "neutron": ServiceSpec(
        "neutron",
        neutron.setup,
        neutron.processes,
        before_start=neutron.before_start,
        api_process="neutron",
    ),
    "nova": ServiceSpec(
        "nova", nova.setup, nova.processes, after_start=nova.after_start, api_process="nova-api"
    ),
    "cinder": ServiceSpec("cinder", cinder.setup, cinder.processes, api_process="cinder-api"),
}
KIND_SERVICES: dict[str, tuple[str, ...]] = {
    "keystone": ("keystone",),
    "full": ("keystone", "placement", "glance", "neutron", "nova", "cinder"),
}


def all_processes(ctx: PoolContext, kind: str) -> list[Process]:
    """Every process of a pool of `kind`, in start order."""
    return [p for name in KIND_SERVICES[kind] for p in SERVICES[name].processes(ctx)]
