"""Service and ML2 driver rules: R1, R2, R3, R5, R6, R8."""

from __future__ import annotations

from tenantfusion.dvr.nodeconf import NodeConfig, Src
from tenantfusion.dvr.rules.base import Deployment, Finding, rule

OVN_SERVICES = (
    "ovn-northd", "ovn-controller", "ovn-controller-vtep", "q-ovn-metadata-agent",
    "q-ovn-agent", "neutron-ovn-metadata-agent", "neutron-ovn-agent",
)  # fmt: skip
ROLE_SERVICES = {
    "network": ("q-svc", "q-agt", "q-dhcp", "q-l3", "q-meta"),
    "compute": ("n-cpu", "q-agt", "q-l3", "q-meta"),
}
#: Long names DevStack accepts for the same service (lib/neutron is_service_enabled calls).
ALIASES = {
    "q-svc": "neutron-api", "q-agt": "neutron-agent", "q-dhcp": "neutron-dhcp",
    "q-l3": "neutron-l3", "q-meta": "neutron-metadata-agent",
}  # fmt: skip
CONTROL_PLANE = (
    "key", "n-api", "n-cond", "n-sch", "placement-api", "g-api", "c-api", "c-sch",
    "mysql", "rabbit", "horizon", "etcd3",
)  # fmt: skip


def _drivers_ok(drivers: list[str]) -> bool:
    """openvswitch and l2population loaded, ovn and linuxbridge not."""
    names = {d.strip() for d in drivers}
    return {"openvswitch", "l2population"} <= names and not names & {"ovn", "linuxbridge"}


def _services_src(node: NodeConfig) -> Src:
    return node.services_src or Src(node.file)


def _services_note(node: NodeConfig) -> str:
    if node.services_src is None:
        return " (localrc never sets ENABLED_SERVICES, so the node runs stackrc's default list)"
    return ""


@rule(
    "R1",
    title="ENABLED_SERVICES+= starts with a comma and has no spaces",
    source="devstack stackrc (ENABLED_SERVICES default set before sourcing localrc); "
    "functions-common _cleanup_service_list, disable_all_services",
)
def r1_services_append(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        for stmt in node.service_appends:
            src = Src(node.file, stmt.line.number)
            if stmt.kind == "prefixed-command":
                words = " ".join(stmt.args)
                out.append(
                    Finding.at(
                        "R1",
                        node.name,
                        src,
                        f"'{stmt.line.text.strip()}': the space makes bash run '{words}' as a "
                        "command (command not found); ENABLED_SERVICES keeps stackrc's "
                        "default list",
                        "write ENABLED_SERVICES+=,svc1,svc2 with no spaces",
                    )
                )
            elif any(c.isspace() for c in stmt.value):
                out.append(
                    Finding.at(
                        "R1",
                        node.name,
                        src,
                        f"'{stmt.line.text.strip()}' puts spaces into the service list",
                        "remove the spaces: ENABLED_SERVICES+=,svc1,svc2",
                    )
                )
            elif (
                stmt.value
                and not stmt.value.startswith(",")
                and stmt.line.number not in node.empty_appends
            ):
                out.append(
                    Finding.at(
                        "R1",
                        node.name,
                        src,
                        f"'{stmt.line.text.strip()}' glues '{stmt.value.split(',')[0]}' onto the "
                        "last service of the list (text is appended literally)",
                        f"start the value with a comma: ENABLED_SERVICES+=,{stmt.value}",
                    )
                )
    return out


@rule(
    "R2",
    title="Q_AGENT=openvswitch and mechanism drivers openvswitch,l2population",
    source="devstack lib/neutron_plugins/ml2 (Q_AGENT=${Q_AGENT:-ovn}, "
    "Q_ML2_PLUGIN_MECHANISM_DRIVERS default ovn); lib/neutron_plugins/ovn_agent "
    "ovn_sanity_check (dies if q-agt or q-l3 run with OVN); lib/neutron (Q_DVR_MODE)",
)
def r2_agent(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        agent = node.get("Q_AGENT")
        if agent != "openvswitch":
            how = (
                f"is '{agent}'" if "Q_AGENT" in node.vars else "is unset (DevStack defaults to ovn)"
            )
            agents = node.has("q-agt", "neutron-agent", "q-l3", "neutron-l3")
            out.append(
                Finding.at(
                    "R2",
                    node.name,
                    node.src("Q_AGENT"),
                    f"Q_AGENT {how}: DVR with the L3 agent needs the Open vSwitch agent; "
                    + (
                        "with OVN DevStack dies when q-agt/q-l3 are enabled (ovn_sanity_check)"
                        if agents and agent == "ovn"
                        else "this node is not an ML2/OVS DVR node"
                    ),
                    "set Q_AGENT=openvswitch",
                )
            )
        if "Q_ML2_PLUGIN_MECHANISM_DRIVERS" in node.vars and node.has("q-svc", "neutron-api"):
            drivers = node.get("Q_ML2_PLUGIN_MECHANISM_DRIVERS").split(",")
            if not _drivers_ok(drivers):
                forced = _drivers_ok(node.mech_drivers)
                out.append(
                    Finding.at(
                        "R2",
                        node.name,
                        node.src("Q_ML2_PLUGIN_MECHANISM_DRIVERS"),
                        f"Q_ML2_PLUGIN_MECHANISM_DRIVERS={','.join(drivers)} is not "
                        "openvswitch,l2population"
                        + (
                            " (ignored: lib/neutron replaces it when Q_DVR_MODE is not legacy, "
                            "or a post-config [ml2] mechanism_drivers overrides it)"
                            if forced
                            else ""
                        ),
                        "set Q_ML2_PLUGIN_MECHANISM_DRIVERS=openvswitch,l2population"
                        + (" or drop the line" if forced else ""),
                        severity="warning" if forced else "error",
                    )
                )
    return out


@rule(
    "R3",
    title="OVN services are disabled with the OVS agent",
    source="devstack stackrc (default ENABLED_SERVICES has ovn-controller, ovn-northd, "
    "q-ovn-agent); lib/neutron_plugins/ovn_agent (start_ovn, q-ovn-metadata-agent), sourced "
    "by lib/neutron_plugins/ml2 only for Q_AGENT=ovn",
)
def r3_no_ovn(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        found = [s for s in OVN_SERVICES if s in node.services]
        if found:
            # lib/neutron_plugins/ml2 sources ovn_agent (which starts them) only for Q_AGENT=ovn
            ignored = node.get("Q_AGENT") != "ovn"
            out.append(
                Finding.at(
                    "R3",
                    node.name,
                    _services_src(node),
                    f"OVN services enabled: {', '.join(found)}{_services_note(node)}"
                    + (
                        f" (ignored: DevStack starts them only with Q_AGENT=ovn, "
                        f"Q_AGENT is {node.get('Q_AGENT')})"
                        if ignored
                        else ""
                    ),
                    "disable_service " + " ".join(found) + " (or set ENABLED_SERVICES explicitly)",
                    severity="warning" if ignored else "error",
                )
            )
    return out


@rule(
    "R5",
    title="Tenant networks are vxlan and the vxlan type driver is loaded",
    source="devstack lib/neutron_plugins/ml2 (Q_ML2_TENANT_NETWORK_TYPE default geneve; "
    "agent tunnel_types=vxlan hard-coded when Q_DVR_MODE != legacy); "
    "lib/neutron_plugins/ovn_agent (Q_ML2_PLUGIN_TYPE_DRIVERS=local,flat,vlan,geneve)",
)
def r5_vxlan(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        if not node.has("q-svc", "neutron-api"):
            continue  # agents get tunnel_types=vxlan from DevStack in DVR mode (R22)
        kind = node.get("Q_ML2_TENANT_NETWORK_TYPE")
        if kind != "vxlan":
            out.append(
                Finding.at(
                    "R5",
                    node.name,
                    node.src("Q_ML2_TENANT_NETWORK_TYPE"),
                    f"Q_ML2_TENANT_NETWORK_TYPE is '{kind}': DevStack's DVR sets the agents' "
                    "tunnel_types to vxlan (GRE is not supported)",
                    "set Q_ML2_TENANT_NETWORK_TYPE=vxlan",
                )
            )
            continue
        drivers = node.type_drivers
        if drivers is not None and "vxlan" not in drivers:
            why = (
                "Q_AGENT is ovn, whose default type drivers are local,flat,vlan,geneve"
                if "Q_ML2_PLUGIN_TYPE_DRIVERS" not in node.vars
                else f"Q_ML2_PLUGIN_TYPE_DRIVERS={','.join(drivers)}"
            )
            src = node.vars.get("Q_ML2_PLUGIN_TYPE_DRIVERS")
            out.append(
                Finding.at(
                    "R5",
                    node.name,
                    src.src if src else node.src("Q_AGENT"),
                    f"vxlan tenant networks but the vxlan type driver is not loaded: {why}",
                    "set Q_AGENT=openvswitch (or add vxlan to Q_ML2_PLUGIN_TYPE_DRIVERS)",
                )
            )
    return out


@rule(
    "R6",
    title="The removed linuxbridge mechanism driver is not listed",
    source="neutron releasenotes/notes/remove-linuxbridge-driver-d0df60e5cf8ab3bc.yaml; "
    "neutron pyproject.toml entry points neutron.ml2.mechanism_drivers (no linuxbridge)",
)
def r6_no_linuxbridge(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        value = node.vars.get("Q_ML2_PLUGIN_MECHANISM_DRIVERS")
        if value and "linuxbridge" in value.value.split(","):
            # only neutron-server loads mechanism drivers
            server = node.has("q-svc", "neutron-api")
            forced = "linuxbridge" not in node.mech_drivers or not server
            out.append(
                Finding.at(
                    "R6",
                    node.name,
                    value.src,
                    "linuxbridge is listed in Q_ML2_PLUGIN_MECHANISM_DRIVERS: the driver was "
                    "removed from Neutron (2025.1)"
                    + (
                        "; the list is ignored here (no neutron-server on this node, or "
                        "lib/neutron "
                        "forces openvswitch,l2population when Q_DVR_MODE is not legacy, or "
                        "post-config overrides it)"
                        if forced
                        else ", so neutron-server fails to load it"
                    ),
                    "set Q_ML2_PLUGIN_MECHANISM_DRIVERS=openvswitch,l2population",
                    severity="warning" if forced else "error",
                )
            )
        if node.get("Q_AGENT") == "linuxbridge":
            out.append(
                Finding.at(
                    "R6",
                    node.name,
                    node.src("Q_AGENT"),
                    "Q_AGENT=linuxbridge: the agent was removed from Neutron",
                    "set Q_AGENT=openvswitch",
                )
            )
    return out


@rule(
    "R8",
    title="Role services; only one node runs q-svc",
    source="devstack lib/neutron (configure_neutron / start_neutron_* is_service_enabled "
    "q-svc, q-agt, q-dhcp, q-l3, q-meta); stackrc default ENABLED_SERVICES",
)
def r8_roles(dep: Deployment) -> list[Finding]:
    out = []
    servers = [n for n in dep.nodes if n.has("q-svc", "neutron-api")]
    for node in dep.nodes:
        src = _services_src(node)
        need = ROLE_SERVICES[node.role]
        missing = [s for s in need if not node.has(s, ALIASES.get(s, s))]
        if "q-svc" in missing and servers:
            missing.remove("q-svc")  # another node of the deployment runs the server
        hard = [
            s for s in missing if s in ("q-agt", "q-l3") or (s == "q-svc" and len(dep.nodes) > 1)
        ]
        for group, severity in (
            (hard, "error"),
            ([s for s in missing if s not in hard], "warning"),
        ):
            if group:
                out.append(
                    Finding.at(
                        "R8",
                        node.name,
                        src,
                        f"{node.role} node lacks {', '.join(group)}{_services_note(node)}"
                        + ("" if severity == "error" else " (uncertain: may run elsewhere)"),
                        f"enable {', '.join(group)} in ENABLED_SERVICES",
                        severity="error" if severity == "error" else "warning",
                    )
                )
        if (
            len(servers) > 1
            and node in servers
            and (node.role == "compute" or node is not servers[0])
        ):
            extra = [s for s in CONTROL_PLANE if s in node.services]
            also = f" and control-plane services {', '.join(extra)}" if extra else ""
            names = ", ".join(n.name for n in servers)
            out.append(
                Finding.at(
                    "R8",
                    node.name,
                    src,
                    f"{node.role} node runs q-svc{also}{_services_note(node)}: "
                    f"q-svc runs on {len(servers)} nodes ({names})",
                    "set ENABLED_SERVICES=n-cpu,placement-client,q-agt,q-l3,q-meta on compute nodes"
                    if node.role == "compute"
                    else "run q-svc on one node only",
                )
            )
    return out
