"""DVR rules R1–R29 (and D1, D2): registry ``REGISTRY`` of id → Rule, and ``run``.

Configuration rules live in services.py, nodes.py, addresses.py and scripts.py; the
live-state rules R26–R29 are checked by ``tenantfusion.dvr.checker``; R23–R25 concern the
Neutron API and runtime and are described here with their sources.
"""

from __future__ import annotations

from tenantfusion.dvr.rules import addresses, agents, nodes, scripts, services  # noqa: F401
from tenantfusion.dvr.rules.base import REGISTRY, Deployment, Finding, Rule, describe

describe(
    "R23",
    title="The router 'distributed' attribute is admin-only",
    scope="api",
    source="neutron neutron/conf/policies/router.py (create_router:distributed, "
    "update_router:distributed, get_router:distributed: ADMIN)",
)
describe(
    "R24",
    title="legacy ↔ distributed needs admin_state_up=False first",
    scope="api",
    source="neutron neutron/db/l3_dvr_db.py _validate_router_migration",
)
describe(
    "R25",
    title="Router namespaces appear only after its ports are bound on the host",
    scope="live",
    source="neutron neutron/db/l3_dvr_db.py / agent/l3/dvr_local_router.py "
    "(routers scheduled to hosts with bound DVR-serviced ports)",
)
describe(
    "R26",
    title="Bridges: br-int, br-tun (+ br-ex on dvr_snat and dvr nodes)",
    scope="live",
    source="devstack lib/neutron_plugins/ovs_base (OVS_BRIDGE br-int, OVS_TUNNEL_BRIDGE "
    "br-tun, PUBLIC_BRIDGE br-ex); neutron agent/common/ovs_lib.py",
)
describe(
    "R27",
    title="Namespaces qdhcp/snat/qrouter/fip as the Neutron state requires",
    scope="live",
    source="neutron agent/linux/dhcp.py NS_PREFIX, agent/l3/namespaces.py, "
    "dvr_snat_ns.py SNAT_NS_PREFIX, dvr_fip_ns.py FIP_NS_PREFIX",
)
describe(
    "R28",
    title="Devices qr- (qrouter), qg-/sg- (snat), fg- (fip), rfp-/fpr- pair",
    scope="live",
    source="neutron agent/l3/namespaces.py (qr-, qg-, rfp-), "
    "dvr_fip_ns.py (fg-, fpr-), dvr_edge_router.py (sg-)",
)
describe(
    "R29",
    title="fip namespace routes floating IPs via fpr-; host reaches them via br-ex",
    scope="live",
    source="neutron agent/l3/dvr_local_router.py floating_ip_added_dist "
    "(route fip_cidr via rtr_2_fip on fpr-)",
)


def run(dep: Deployment, *, only: set[str] | None = None) -> list[Finding]:
    """Run every configuration rule (or ``only`` those) and return sorted findings."""
    out: list[Finding] = []
    for rule_id, rule in REGISTRY.items():
        if rule.check is None or (only is not None and rule_id not in only):
            continue
        out.extend(rule.check(dep))
    return sorted(set(out), key=Finding.sort_key)


__all__ = ["REGISTRY", "Deployment", "Finding", "Rule", "run"]
