"""What a pool's Neutron offers for DVR (for the pool registry's ``dvr`` capability).

Rules: R21 (``router_distributed`` makes new routers distributed by default), R23 (the
``distributed`` router attribute is admin-only under the default policy: neutron
neutron/conf/policies/router.py), R24 (changing legacy ↔ distributed needs
``admin_state_up=False`` first: neutron neutron/db/l3_dvr_db.py
_validate_router_migration, which also checks the old router's state when the
``router-admin-state-down-before-update`` shim extension is loaded).
"""

from __future__ import annotations

from dataclasses import dataclass

DVR_EXTENSION = "dvr"  # neutron_lib.api.definitions.dvr.ALIAS
ADMIN_DOWN_EXTENSION = "router-admin-state-down-before-update"


@dataclass(frozen=True)
class DvrCapability:
    """DVR support of one pool, as its Neutron reports it."""

    supported: bool  # the "dvr" API extension is loaded
    distributed_by_default: bool | None  # [DEFAULT] router_distributed, when known (R21)
    tenant_can_choose: bool  # may a project member set "distributed"? (R23: admin only)
    migration_needs_admin_down: bool  # R24: set admin_state_up=False before switching


def dvr_capability(
    *, extensions: list[str], router_distributed_default: bool | None
) -> DvrCapability:
    """Summarize DVR support from Neutron's extension aliases and router_distributed."""
    supported = DVR_EXTENSION in extensions
    return DvrCapability(
        supported=supported,
        distributed_by_default=router_distributed_default if supported else False,
        tenant_can_choose=False,
        migration_needs_admin_down=supported,
    )
