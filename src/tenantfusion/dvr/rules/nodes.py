"""Per-node DVR rules: R4, R9, R10, R11, R21, R22, and D2 (multi-node control plane)."""

from __future__ import annotations

import re

from tenantfusion.dvr.nodeconf import POST_CONFIG_TARGETS, NodeConfig, Src, ip_or_none
from tenantfusion.dvr.rules.base import Deployment, Finding, rule

MODES = ("legacy", "dvr_snat", "dvr", "dvr_no_external")
ROLE_MODES = {"network": ("dvr_snat",), "compute": ("dvr", "dvr_no_external")}
NOT_PHYSICAL = re.compile(
    r"^(lo|br-.*|qr-.*|qg-.*|sg-.*|fg-.*|rfp-.*|fpr-.*|tap.*|patch-.*|"
    r"int-br-.*|phy-br-.*|ovs-system|vxlan.*|genev_sys.*|virbr.*|docker.*)$"
)
AGENT_OPTIONS = ("enable_distributed_routing", "l2_population", "arp_responder")


def _inventory_field(node: NodeConfig, name: str) -> Src:
    """The inventory field ``nodes[i].<name>`` of a node (located at the node's entry)."""
    field = (node.role_src.field or "").rsplit(".", 1)[0] + f".{name}"
    return Src(node.role_src.file, node.role_src.line, field)


@rule(
    "R4",
    title="Q_DVR_MODE: dvr_snat on the network node, dvr or dvr_no_external on compute nodes",
    source="devstack lib/neutron (Q_DVR_MODE=${Q_DVR_MODE:-legacy}, _configure_dvr); "
    "neutron neutron/conf/agent/l3/config.py agent_mode choices",
)
def r4_mode(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        mode = node.dvr_mode
        src = node.src("Q_DVR_MODE")
        if mode not in MODES:
            out.append(
                Finding.at(
                    "R4",
                    node.name,
                    src,
                    f"Q_DVR_MODE '{mode}' is not one of " + ", ".join(MODES),
                    "use dvr_snat (network) or dvr (compute)",
                )
            )
        elif mode not in ROLE_MODES[node.role]:
            want = " or ".join(ROLE_MODES[node.role])
            how = f"is '{mode}'" if "Q_DVR_MODE" in node.vars else "is unset (legacy)"
            out.append(
                Finding.at(
                    "R4",
                    node.name,
                    src,
                    f"Q_DVR_MODE {how} on a {node.role} node",
                    f"set Q_DVR_MODE={want}",
                )
            )
    if (
        dep.nodes
        and not any(n.dvr_mode == "dvr_snat" for n in dep.nodes)
        and any(n.dvr_mode in ("dvr", "dvr_no_external") for n in dep.nodes)
    ):
        first = dep.nodes[0]
        out.append(
            Finding.at(
                "R4",
                first.name,
                first.role_src if first.from_inventory else Src(first.file),
                "no node runs dvr_snat: centralized SNAT has nowhere to run",
                "set Q_DVR_MODE=dvr_snat on the network node",
            )
        )
    return out


@rule(
    "R9",
    title="Each node's TUNNEL_ENDPOINT_IP is its own, unique address",
    source="devstack stackrc (TUNNEL_ENDPOINT_IP=${TUNNEL_ENDPOINT_IP:-$HOST_IP}); "
    "lib/neutron_plugins/openvswitch_agent ([ovs] local_ip $TUNNEL_ENDPOINT_IP)",
)
def r9_tunnel(dep: Deployment) -> list[Finding]:
    out = []
    seen: dict[str, NodeConfig] = {}
    for node in dep.nodes:
        name = "TUNNEL_ENDPOINT_IP" if "TUNNEL_ENDPOINT_IP" in node.vars else "HOST_IP"
        value = node.get(name)
        src = node.src(name)
        if not value:
            if len(dep.nodes) > 1:
                out.append(
                    Finding.at(
                        "R9",
                        node.name,
                        src,
                        "neither TUNNEL_ENDPOINT_IP nor HOST_IP is set: DevStack "
                        "guesses the address from the default route",
                        "set TUNNEL_ENDPOINT_IP to this node's tunnel address",
                    )
                )
            continue
        if ip_or_none(value) is None:
            out.append(
                Finding.at(
                    "R9",
                    node.name,
                    src,
                    f"{name}={value} is not an IPv4 address",
                    "set an IPv4 address",
                )
            )
            continue
        if value in seen:
            out.append(
                Finding.at(
                    "R9",
                    node.name,
                    src,
                    f"tunnel endpoint {value} is also {seen[value].name}'s",
                    "give every node its own tunnel address",
                )
            )
        seen.setdefault(value, node)
        for other in dep.nodes:
            if other is not node and other.get("HOST_IP") == value:
                out.append(
                    Finding.at(
                        "R9",
                        node.name,
                        src,
                        f"tunnel endpoint {value} is {other.name}'s HOST_IP",
                        "use this node's own address",
                    )
                )
    return out


@rule(
    "R10",
    title="dvr compute nodes have br-ex with a port to the external network",
    source="devstack lib/neutron_plugins/services/l3 _configure_neutron_l3_agent; "
    "lib/neutron_plugins/ovs_base _neutron_ovs_base_configure_l3_agent; lib/neutron "
    "_configure_public_network_connectivity (PUBLIC_INTERFACE → br-ex)",
)
def r10_external(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        if node.dvr_mode != "dvr" or node.brex_ports:
            continue
        where = "" if node.post_install is None else " nor does its post-install script add one"
        out.append(
            Finding.at(
                "R10",
                node.name,
                _inventory_field(node, "external_interface")
                if node.from_inventory
                else Src(node.file),
                f"dvr node without an external port: PUBLIC_INTERFACE is unset{where}, so br-ex "
                "has no path to the external network and floating IPs on this node are unreachable",
                "set PUBLIC_INTERFACE=<nic> (or use Q_DVR_MODE=dvr_no_external)",
            )
        )
    return out


@rule(
    "R11",
    title="PUBLIC_INTERFACE / the br-ex port is a real interface",
    source="devstack lib/neutron _move_neutron_addresses_route (moves PUBLIC_INTERFACE's "
    "address into br-ex, adds it with --may-exist add-port); stackrc PUBLIC_INTERFACE",
)
def r11_real_port(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        for port in node.brex_ports:
            if NOT_PHYSICAL.match(port.value):
                out.append(
                    Finding.at(
                        "R11",
                        node.name,
                        port.src,
                        f"'{port.value}' is not a physical interface (bridge, "
                        "loopback or Neutron/OVS device)",
                        "name the spare NIC that carries the external network",
                    )
                )
    return out


def _router_distributed(node: NodeConfig) -> tuple[bool, Src]:
    entry = node.ini("neutron.conf", "DEFAULT", "router_distributed")
    if entry is not None:
        return entry.value.lower() == "true", Src(node.file, entry.line.number)
    return node.dvr_mode != "legacy", node.src("Q_DVR_MODE")


@rule(
    "R21",
    title="Server: [DEFAULT] router_distributed = True",
    source="devstack lib/neutron _configure_dvr (iniset $NEUTRON_CONF DEFAULT "
    "router_distributed True when Q_DVR_MODE != legacy)",
)
def r21_router_distributed(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        if not node.has("q-svc", "neutron-api"):
            continue
        ok, src = _router_distributed(node)
        if not ok:
            out.append(
                Finding.at(
                    "R21",
                    node.name,
                    src,
                    "router_distributed is not True on the server: new routers are "
                    "legacy unless an admin passes distributed=True",
                    "set Q_DVR_MODE=dvr_snat (DevStack then sets router_distributed)",
                )
            )
    return out


@rule(
    "R22",
    title="Agents: enable_distributed_routing, l2_population, arp_responder; agent_mode",
    source="devstack lib/neutron_plugins/ml2 neutron_plugin_configure_service ([agent] options "
    "when Q_DVR_MODE != legacy); lib/neutron _configure_dvr (l3 agent_mode=$Q_DVR_MODE), "
    "start_l2_agent (--config-file /$Q_PLUGIN_CONF_FILE); inc/meta-config merge_config_group",
)
def r22_agents(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        for entry in node.post_config:
            if entry.target not in POST_CONFIG_TARGETS and entry.key in AGENT_OPTIONS + (
                "agent_mode",
            ):
                out.append(
                    Finding.at(
                        "R22",
                        node.name,
                        Src(node.file, entry.line.number),
                        f"{entry.key} is set in [[post-config|{entry.target}]], a file the "
                        "agents do "
                        "not read",
                        "use [[post-config|/$Q_PLUGIN_CONF_FILE]] (agent options) or "
                        "[[post-config|$Q_L3_CONF_FILE]] (agent_mode)",
                    )
                )
        if node.has("q-agt", "neutron-agent"):
            for key in AGENT_OPTIONS:
                opt = node.ini("ml2_conf.ini", "agent", key)
                if opt is not None and opt.value.lower() != "true" and key != "l2_population":
                    out.append(
                        Finding.at(
                            "R22",
                            node.name,
                            Src(node.file, opt.line.number),
                            f"[agent] {key} = {opt.value}",
                            f"set {key} = True",
                        )
                    )
        if node.has("q-l3", "neutron-l3"):
            mode = node.ini("l3_agent.ini", "DEFAULT", "agent_mode")
            if mode is not None and mode.value != node.dvr_mode:
                out.append(
                    Finding.at(
                        "R22",
                        node.name,
                        Src(node.file, mode.line.number),
                        f"l3 agent_mode = {mode.value} but Q_DVR_MODE is {node.dvr_mode}",
                        "drop the line or make it match Q_DVR_MODE",
                    )
                )
    return out


@rule(
    "D2",
    title="Compute nodes point SERVICE_HOST (and the message bus and database) at the controller",
    source="devstack stackrc (SERVICE_HOST=${SERVICE_HOST:-$HOST_IP}); lib/rpc_backend "
    "(RABBIT_HOST=${RABBIT_HOST:-$SERVICE_HOST}); lib/database (DATABASE_HOST)",
)
def d2_service_host(dep: Deployment) -> list[Finding]:
    out = []
    ctrl = dep.controller
    ctrl_ip = ctrl.get("HOST_IP") if ctrl is not None else ""
    for node in dep.nodes:
        if node.role != "compute":
            continue
        host = node.get("SERVICE_HOST")
        own = {node.get("HOST_IP"), node.get("TUNNEL_ENDPOINT_IP")} - {""}
        if not host:
            out.append(
                Finding.at(
                    "D2",
                    node.name,
                    Src(node.file),
                    "SERVICE_HOST is unset: it defaults to this node's HOST_IP, so "
                    "the node's services, message bus and database point at itself",
                    "set SERVICE_HOST (and MYSQL_HOST, RABBIT_HOST) to the controller's address",
                )
            )
        elif host in own or (ctrl_ip and host != ctrl_ip):
            out.append(
                Finding.at(
                    "D2",
                    node.name,
                    node.src("SERVICE_HOST"),
                    f"SERVICE_HOST={host} is not the controller's address"
                    + (f" ({ctrl_ip})" if ctrl_ip else ""),
                    "set SERVICE_HOST to the controller's HOST_IP",
                )
            )
        for name in ("RABBIT_HOST", "MYSQL_HOST", "DATABASE_HOST"):
            value = node.get(name)
            if value and host and value != host:
                out.append(
                    Finding.at(
                        "D2",
                        node.name,
                        node.src(name),
                        f"{name}={value} differs from SERVICE_HOST={host}",
                        f"set {name}={host}",
                    )
                )
    return out
