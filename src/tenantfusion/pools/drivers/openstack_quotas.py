"""A tenant's project quotas in an OpenStack pool (Nova, Neutron, Cinder), as the pool
admin."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tenantfusion.pools.drivers.openstack_admin import AdminAccess
from tenantfusion.pools.drivers.openstack_errors import translate

#: Platform resource → the SDK's quota attribute, per service type.
NOVA = {"servers": "instances", "vcpus": "cores", "ram_mb": "ram"}
NEUTRON = {"networks": "networks", "routers": "routers", "floating_ips": "floating_ips"}
CINDER = {"volumes": "volumes", "volume_gb": "gigabytes"}


class OpenStackQuotas(AdminAccess):
    """``PoolDriver.set_project_quotas`` for OpenStack."""

    pool: str

    def _push(
        self,
        *,
        service: str,
        names: Mapping[str, str],
        limits: Mapping[str, int | None],
        defaults: Callable[[], Any],
        update: Callable[..., Any],
    ) -> dict[str, int]:
        with translate(self.pool, f"{service}_quota_defaults"):
            if not self.conn.has_service(service):
                return {}
            default = defaults() if any(limits.get(r) is None for r in names) else None
        values = {
            attr: limit if (limit := limits.get(resource)) is not None else getattr(default, attr)
            for resource, attr in names.items()
        }
        with translate(self.pool, f"update_{service}_quota"):
            update(**values)
        return values

    def set_project_quotas(
        self, *, project_id: str, limits: Mapping[str, int | None]
    ) -> dict[str, int]:
        compute, network, volume = self.conn.compute, self.conn.network, self.conn.block_storage
        return {
            **self._push(
                service="compute",
                names=NOVA,
                limits=limits,
                defaults=lambda: compute.get_quota_set_defaults(project_id),
                update=lambda **v: compute.update_quota_set(project_id, **v),
            ),
            **self._push(
                service="network",
                names=NEUTRON,
                limits=limits,
                defaults=lambda: network.get_quota_default(project_id),
                update=lambda **v: network.update_quota(project_id, **v),
            ),
            **self._push(
                service="block-storage",
                names=CINDER,
                limits=limits,
                defaults=lambda: volume.get_quota_set_defaults(project_id),
                update=lambda **v: volume.update_quota_set(project_id, **v),
            ),
        }
