"""Per-node DVR rules: R4, R9, R10, R11, and D2 (multi-node control plane)."""

from __future__ import annotations

import re
from ipaddress import IPv6Address, ip_address

from tenantfusion.dvr.nodeconf import NodeConfig, Src, ip_or_none
from tenantfusion.dvr.rules.base import Deployment, Finding, rule

MODES = ("legacy", "dvr_snat", "dvr", "dvr_no_external")
ROLE_MODES = {"network": ("dvr_snat",), "compute": ("dvr", "dvr_no_external")}
NOT_PHYSICAL = re.compile(
    r"^(lo|br-.*|qr-.*|qg-.*|sg-.*|fg-.*|rfp-.*|fpr-.*|tap.*|patch-.*|"
    r"int-br-.*|phy-br-.*|ovs-system|vxlan.*|genev_sys.*|virbr.*|docker.*)$"
)


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
        complete = any(n.has("q-svc", "neutron-api") for n in dep.nodes)  # server included
        out.append(
            Finding.at(
                "R4",
                first.name,
                first.role_src if first.from_inventory else Src(first.file),
                "no node runs dvr_snat: centralized SNAT has nowhere to run"
                + ("" if complete else " (uncertain: the server's node is not among these files)"),
                "set Q_DVR_MODE=dvr_snat on the network node",
                severity="error" if complete else "warning",
            )
        )
    return out


def _is_ipv6(value: str) -> bool:
    """DevStack accepts IPv6 tunnel endpoints (stackrc TUNNEL_IP_VERSION, devstack c869d598)."""
    try:
        return isinstance(ip_address(value), IPv6Address)
    except ValueError:
        return False


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
                        severity="warning",
                    )
                )
            continue
        if ip_or_none(value) is None and not _is_ipv6(value):
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
                f"dvr node without an external port: PUBLIC_INTERFACE is unset{where}, so "
                "unless something outside DevStack plugs br-ex, floating IPs on this node "
                "are unreachable",
                "set PUBLIC_INTERFACE=<nic> (or use Q_DVR_MODE=dvr_no_external)",
                severity="warning",
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
        if node.role != "compute" or node is ctrl:
            continue  # the control-plane node itself
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
                    f"SERVICE_HOST={host} is "
                    + ("this node's own address" if host in own else "not the controller's HOST_IP")
                    + (f" ({ctrl_ip})" if ctrl_ip else ""),
                    "set SERVICE_HOST to the controller's HOST_IP",
                    severity="error" if host in own else "warning",
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
                        f"set {name}={host} (unless that service really runs there)",
                        severity="warning",
                    )
                )
    return out
