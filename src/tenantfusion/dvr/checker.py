"""Node checker: compare a node's live (or captured) state with the expected DVR layout.

Reports, per rule: R26 bridges (and their patch, tunnel and external ports), R27
namespaces, R28 devices inside them, R29 routes (fip namespace → fpr-, host → br-ex).
"""

from __future__ import annotations

from fnmatch import fnmatch
from ipaddress import IPv4Address, IPv4Network, ip_interface

from tenantfusion.dvr.expected import ExpectedState, plan_host
from tenantfusion.dvr.rules import Finding
from tenantfusion.dvr.state import Namespace, NodeState

NEUTRON_NS = ("qrouter-", "snat-", "fip-", "qdhcp-")
DEFAULT_MODE = {"network": "dvr_snat", "compute": "dvr"}


def _finding(rule: str, host: str, where: str, message: str, fix: str) -> Finding:
    return Finding(rule, host, message, fix, file=where)


def _bridges(state: NodeState, mode: str, tunnel_ip: IPv4Address | None) -> list[Finding]:
    host, out = state.host, []
    wanted = ["br-int", "br-tun"] + (["br-ex"] if mode in ("dvr_snat", "dvr") else [])
    for name in wanted:
        if state.bridge(name) is None:
            out.append(
                _finding(
                    "R26",
                    host,
                    "ovs",
                    f"bridge {name} is missing",
                    f"ovs-vsctl --may-exist add-br {name} (DevStack/the agent creates it)",
                )
            )
    br_int, br_tun, br_ex = state.bridge("br-int"), state.bridge("br-tun"), state.bridge("br-ex")
    if br_int and br_tun:
        for bridge, port, peer in (
            (br_int, "patch-tun", "patch-int"),
            (br_tun, "patch-int", "patch-tun"),
        ):
            ifaces = bridge.ports.get(port, [])
            if not any(i.type == "patch" and i.options.get("peer") == peer for i in ifaces):
                out.append(
                    _finding(
                        "R26",
                        host,
                        f"ovs:{bridge.name}",
                        f"{bridge.name} lacks patch port {port} (peer {peer})",
                        "restart neutron-openvswitch-agent to rebuild the patch ports",
                    )
                )
        tunnels = [i for ifs in br_tun.ports.values() for i in ifs if i.type == "vxlan"]
        for iface in tunnels:
            local = iface.options.get("local_ip")
            if tunnel_ip is not None and local != str(tunnel_ip):
                out.append(
                    _finding(
                        "R26",
                        host,
                        f"ovs:br-tun:{iface.name}",
                        f"vxlan port {iface.name} has local_ip {local}, not this "
                        f"host's tunnel address {tunnel_ip}",
                        "set [ovs] local_ip (TUNNEL_ENDPOINT_IP) to the node's address",
                    )
                )
    if br_ex is not None and mode in ("dvr_snat", "dvr"):
        external = [
            p
            for p, ifs in br_ex.ports.items()
            if p != "br-ex" and not any(i.type in ("patch", "internal") for i in ifs)
        ]
        if not external:
            out.append(
                _finding(
                    "R26",
                    host,
                    "ovs:br-ex",
                    "br-ex has no external port: no path to the external network (R10)",
                    "ovs-vsctl --may-exist add-port br-ex <nic>",
                )
            )
        links = {x.ifname for x in state.host_ns.links}
        for port in external:
            if port not in links:
                out.append(
                    _finding(
                        "R11",
                        host,
                        "ovs:br-ex",
                        f"br-ex port {port} is not a device on this host",
                        "attach the real NIC that carries the external network",
                    )
                )
    return out


def _has_device(ns: Namespace, pattern: str, ip: str | None) -> bool:
    for link in ns.links:
        if fnmatch(link.ifname, pattern) and (
            ip is None or any(a.split("/")[0] == ip for a in link.addresses)
        ):
            return True
    return False


def _route_to(ns: Namespace, target: IPv4Network, dev: str) -> bool:
    for route in ns.routes:
        if route.dev != dev or route.dst == "default":
            continue
        try:
            dst = ip_interface(route.dst if "/" in route.dst else route.dst + "/32").network
        except ValueError:
            continue
        if isinstance(dst, IPv4Network) and target.subnet_of(dst):
            return True
    return False


def check(
    *,
    state: NodeState,
    role: str,
    expected: ExpectedState | None = None,
    mode: str | None = None,
    host: str | None = None,
) -> list[Finding]:
    """Compare ``state`` with what ``expected`` Neutron state implies for this node."""
    expected = expected or ExpectedState()
    mode = mode or DEFAULT_MODE[role]
    host = host or state.host
    info = expected.hosts.get(host)
    out = _bridges(state, mode, info.tunnel_ip if info else None)
    plan = plan_host(expected=expected, host=host, mode=mode)
    present = {ns.name for ns in state.namespaces}
    for name, why in sorted(plan.namespaces.items()):
        if name not in present:
            out.append(
                _finding(
                    "R27",
                    host,
                    f"netns:{name}",
                    f"namespace {name} is missing ({why})",
                    "check the l3/dhcp agent log; the agent creates it once ports "
                    "are bound here (R25)",
                )
            )
    for name in sorted(present - set(plan.namespaces)):
        if name.startswith(NEUTRON_NS):
            out.append(
                _finding(
                    "R27",
                    host,
                    f"netns:{name}",
                    f"namespace {name} is not expected in this Neutron state",
                    "a stale namespace: neutron-netns-cleanup, or check the expected state",
                )
            )
    for ns_name, devices in sorted(plan.devices.items()):
        ns = state.namespace(ns_name)
        if ns is None:
            continue
        for pattern, ip in devices:
            if not _has_device(ns, pattern, ip):
                what = f"{pattern}" + (f" with {ip}" if ip else "")
                out.append(
                    _finding(
                        "R28",
                        host,
                        f"netns:{ns_name}",
                        f"device {what} is missing in {ns_name}",
                        "the l3 agent plugs it; check its log and the port binding",
                    )
                )
    for fip, fpr in plan.fip_routes:
        fip_ns = next(
            (
                ns
                for ns in state.namespaces
                if ns.name.startswith("fip-") and ns.link(fpr) is not None
            ),
            None,
        )
        if fip_ns is None:
            fip_ns = next((ns for ns in state.namespaces if ns.name.startswith("fip-")), None)
        if fip_ns is not None and not _route_to(fip_ns, IPv4Network(f"{fip}/32"), fpr):
            out.append(
                _finding(
                    "R29",
                    host,
                    f"netns:{fip_ns.name}",
                    f"no route to floating IP {fip} via {fpr} in {fip_ns.name}",
                    f"ip -n {fip_ns.name} route replace {fip} via <rfp address> dev {fpr}",
                )
            )
    if state.bridge("br-ex") is not None:
        for cidr in plan.external_cidrs:
            if not _route_to(state.host_ns, cidr, "br-ex"):
                out.append(
                    _finding(
                        "R29",
                        host,
                        "route:host",
                        f"the host has no route to the floating range {cidr} via br-ex",
                        f"ip route replace {cidr} dev br-ex",
                    )
                )
    return sorted(out, key=Finding.sort_key)
