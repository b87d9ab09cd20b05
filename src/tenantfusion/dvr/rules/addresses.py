"""Address and capacity rules: R12–R17, R19, R20, and D1 (subnet pool vs FIXED_RANGE)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from tenantfusion.dvr.nodeconf import Src, ip_or_none, net_or_none
from tenantfusion.dvr.rules.base import Deployment, Finding, rule

LINK_LOCAL = IPv4Network("169.254.0.0/16")
VXLAN_OVERHEAD = 50  # VXLAN (30) + outer IPv4 header (20)
IPV6_MIN_MTU = 1280


def _host_addresses(dep: Deployment) -> list[tuple[str, str, str, Src]]:
    """(node, variable, address, src) of every management and tunnel address."""
    out: list[tuple[str, str, str, Src]] = []
    for node in dep.nodes:
        for name in ("HOST_IP", "TUNNEL_ENDPOINT_IP"):
            if name in node.vars and ip_or_none(node.get(name)):
                out.append((node.name, name, node.get(name), node.src(name)))
    return out


@rule(
    "R12",
    title="Q_FLOATING_ALLOCATION_POOL: start ≤ end, both inside FLOATING_RANGE",
    source="devstack lib/neutron_plugins/services/l3 _neutron_create_public_subnet_v4 "
    "(--allocation-pool $Q_FLOATING_ALLOCATION_POOL --subnet-range $FLOATING_RANGE)",
)
def r12_pool(dep: Deployment) -> list[Finding]:
    setting = dep.setting("Q_FLOATING_ALLOCATION_POOL")
    ctrl = dep.controller
    if setting is None or ctrl is None:
        return []
    pool, floating = dep.pool(), dep.network("FLOATING_RANGE")
    if pool is None:
        return [
            Finding.at(
                "R12",
                ctrl.name,
                setting.src,
                f"Q_FLOATING_ALLOCATION_POOL={setting.value} is not start=A,end=B",
                "write Q_FLOATING_ALLOCATION_POOL=start=A,end=B",
            )
        ]
    start, end, src = pool
    out = []
    if start > end:
        out.append(
            Finding.at(
                "R12",
                ctrl.name,
                src,
                f"pool start {start} is after end {end}",
                "swap start and end",
            )
        )
    if floating and not (start in floating[0] and end in floating[0]):
        out.append(
            Finding.at(
                "R12",
                ctrl.name,
                src,
                f"pool {start}-{end} is not inside FLOATING_RANGE {floating[0]}",
                "choose a pool inside FLOATING_RANGE",
            )
        )
    return out


@rule(
    "R13",
    title="PUBLIC_NETWORK_GATEWAY inside FLOATING_RANGE, outside the pool",
    source="devstack lib/neutron_plugins/services/l3 _neutron_create_public_subnet_v4 "
    "(--gateway), _neutron_configure_router_v4 (gateway address put on br-ex)",
)
def r13_gateway(dep: Deployment) -> list[Finding]:
    setting, floating, pool, ctrl = (
        dep.setting("PUBLIC_NETWORK_GATEWAY"),
        dep.network("FLOATING_RANGE"),
        dep.pool(),
        dep.controller,
    )
    if setting is None or ctrl is None or not setting.value:
        return []
    gw = ip_or_none(setting.value)
    if gw is None:
        return [
            Finding.at(
                "R13",
                ctrl.name,
                setting.src,
                f"'{setting.value}' is not an address",
                "set an IPv4 address",
            )
        ]
    out = []
    if floating and gw not in floating[0]:
        out.append(
            Finding.at(
                "R13",
                ctrl.name,
                setting.src,
                f"gateway {gw} is outside FLOATING_RANGE {floating[0]}",
                "pick the gateway inside FLOATING_RANGE",
            )
        )
    if pool and pool[0] <= gw <= pool[1]:
        out.append(
            Finding.at(
                "R13",
                ctrl.name,
                setting.src,
                f"gateway {gw} is inside the allocation pool {pool[0]}-{pool[1]}",
                "move the gateway or the pool so they don't meet",
            )
        )
    return out


@rule(
    "R14",
    title="The address given to br-ex is outside the allocation pool",
    source="neutron IPAM hands out any pool address (devstack lib/neutron_plugins/services/l3 "
    "--allocation-pool); devstack puts only the gateway on br-ex",
)
def r14_brex_address(dep: Deployment) -> list[Finding]:
    pool = dep.pool()
    if pool is None:
        return []
    out = []
    for node in dep.nodes:
        for addr in node.brex_addresses:
            ip = ip_or_none(addr.value)
            if ip is not None and pool[0] <= ip <= pool[1]:
                out.append(
                    Finding.at(
                        "R14",
                        node.name,
                        addr.src,
                        f"br-ex address {ip} is inside the allocation pool "
                        f"{pool[0]}-{pool[1]}: Neutron may hand it out",
                        "use an address of FLOATING_RANGE outside the pool",
                    )
                )
    return out


@rule(
    "R15",
    title="FLOATING_RANGE contains no management or tunnel address",
    source="devstack stackrc (FLOATING_RANGE, HOST_IP, TUNNEL_ENDPOINT_IP); neutron routes "
    "FLOATING_RANGE through br-ex and the fip namespaces (agent/l3/dvr_fip_ns.py)",
)
def r15_floating_hosts(dep: Deployment) -> list[Finding]:
    floating = dep.network("FLOATING_RANGE")
    if floating is None:
        return []
    out = []
    pool = dep.pool()
    for node, name, addr, src in _host_addresses(dep):
        ip = IPv4Address(addr)
        if ip not in floating[0]:
            continue
        # Outside an explicit allocation pool this is DevStack's single-interface layout
        # (doc/source/guides/neutron.rst: HOST_IP moves onto br-ex with PUBLIC_INTERFACE):
        # it works when the address really is on the external network, else br-ex's route
        # for FLOATING_RANGE competes with the host's own.
        in_pool = pool is None or pool[0] <= ip <= pool[1]
        out.append(
            Finding.at(
                "R15",
                node,
                src,
                f"{name} {addr} is inside FLOATING_RANGE {floating[0]}"
                + (
                    ": Neutron may allocate it as a floating IP or gateway"
                    if in_pool
                    else " (outside the pool: fine only if it is on the external network)"
                ),
                "use a FLOATING_RANGE that holds no host addresses",
                severity="error" if in_pool else "warning",
            )
        )
    return out


@rule(
    "R16",
    title="FIXED_RANGE and FLOATING_RANGE do not overlap",
    source="devstack stackrc (FIXED_RANGE=${FIXED_RANGE:-$IPV4_ADDRS_SAFE_TO_USE}, FLOATING_RANGE)",
)
def r16_overlap(dep: Deployment) -> list[Finding]:
    floating = dep.network("FLOATING_RANGE")
    out: list[Finding] = []
    if floating is None:
        return out
    for name in ("FIXED_RANGE", "IPV4_ADDRS_SAFE_TO_USE"):
        fixed = dep.network(name)
        if fixed and fixed[0].overlaps(floating[0]):
            node = dep.controller.name if dep.controller else dep.nodes[0].name
            out.append(
                Finding.at(
                    "R16",
                    node,
                    fixed[1],
                    f"{name} {fixed[0]} overlaps FLOATING_RANGE {floating[0]}",
                    "choose disjoint ranges",
                )
            )
    return out


@rule(
    "R17",
    title="The pool holds one fg- port per DVR node, router gateways and floating IPs",
    source="neutron db/l3_dvr_db.py create_fip_agent_gw_port_if_not_exists (one agent "
    "gateway port per external network and host, none for dvr_no_external); "
    "agent/l3/dvr_fip_ns.py (fg- device)",
)
def r17_capacity(dep: Deployment) -> list[Finding]:
    pool, floating, ctrl = dep.pool(), dep.network("FLOATING_RANGE"), dep.controller
    if ctrl is None:
        return []
    if pool is not None:
        size, src = int(pool[1]) - int(pool[0]) + 1, pool[2]
    elif floating is not None:
        size, src = max(floating[0].num_addresses - 3, 0), floating[1]
    else:
        return []
    dvr_nodes = sum(1 for n in dep.nodes if n.dvr_mode in ("dvr_snat", "dvr"))
    need = dvr_nodes + dep.expected_routers + dep.expected_floating_ips
    if size < need:
        return [
            Finding.at(
                "R17",
                ctrl.name,
                src,
                f"the pool holds {size} addresses but needs {need} ({dvr_nodes} fg- "
                f"ports, {dep.expected_routers} router gateways, "
                f"{dep.expected_floating_ips} floating IPs)",
                "widen the allocation pool",
            )
        ]
    return []


@rule(
    "R19",
    title="Underlay MTU ≥ tenant MTU + 50 (VXLAN over IPv4)",
    source="neutron plugins/ml2/drivers/type_tunnel.py get_mtu and type_vxlan.py "
    "(VXLAN overhead); conf/plugins/ml2/config.py path_mtu; db/db_base_plugin_v2.py "
    "IPV6_MIN_MTU",
)
def r19_mtu(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        if dep.tenant_mtu is not None and node.name in dep.node_mtus:
            mtu = dep.node_mtus[node.name]
            if int(mtu.value) < dep.tenant_mtu + VXLAN_OVERHEAD:
                out.append(
                    Finding.at(
                        "R19",
                        node.name,
                        mtu.src,
                        f"underlay MTU {mtu.value} < tenant MTU {dep.tenant_mtu} + "
                        f"{VXLAN_OVERHEAD}",
                        f"raise the underlay MTU to "
                        f"{dep.tenant_mtu + VXLAN_OVERHEAD} or lower the tenant MTU",
                    )
                )
        for target, section, key in (
            ("neutron.conf", "DEFAULT", "global_physnet_mtu"),
            ("ml2_conf.ini", "ml2", "path_mtu"),
        ):
            entry = node.ini(target, section, key)
            if entry is None or not entry.value.isdigit() or int(entry.value) == 0:
                continue
            if int(entry.value) - VXLAN_OVERHEAD < IPV6_MIN_MTU:
                out.append(
                    Finding.at(
                        "R19",
                        node.name,
                        Src(node.file, entry.line.number),
                        f"{key} = {entry.value} leaves vxlan networks an MTU of "
                        f"{int(entry.value) - VXLAN_OVERHEAD}, below IPv6's 1280 "
                        "(DevStack creates IPv6 subnets)",
                        f"set {key} ≥ {IPV6_MIN_MTU + VXLAN_OVERHEAD}",
                    )
                )
    return out


@rule(
    "R20",
    title="No configured range or address uses 169.254.0.0/16",
    source="neutron agent/l3/dvr_fip_ns.py (DVR_FIP_LL_CIDR link-local pairs rfp/fpr), "
    "agent/l3/link_local_allocator.py; metadata 169.254.169.254",
)
def r20_link_local(dep: Deployment) -> list[Finding]:
    out = []
    names = (
        "FLOATING_RANGE",
        "FIXED_RANGE",
        "IPV4_ADDRS_SAFE_TO_USE",
        "HOST_IP",
        "TUNNEL_ENDPOINT_IP",
        "SERVICE_HOST",
        "PUBLIC_NETWORK_GATEWAY",
        "NETWORK_GATEWAY",
        "Q_FLOATING_ALLOCATION_POOL",
    )
    for node in dep.nodes:
        for name in names:
            if name not in node.vars:
                continue
            value = node.get(name)
            parts = [p.split("=", 1)[-1] for p in value.split(",")]
            for part in parts:
                net = net_or_none(part)
                if net is not None and net.overlaps(LINK_LOCAL):
                    out.append(
                        Finding.at(
                            "R20",
                            node.name,
                            node.src(name),
                            f"{name}={value} uses 169.254.0.0/16, which DVR "
                            "(fip link pairs) and metadata reserve",
                            "use another range",
                        )
                    )
                    break
        for addr in node.brex_addresses:
            ip = ip_or_none(addr.value)
            if ip is not None and ip in LINK_LOCAL:
                out.append(
                    Finding.at(
                        "R20",
                        node.name,
                        addr.src,
                        f"br-ex address {ip} is link-local (169.254.0.0/16)",
                        "use an address of FLOATING_RANGE",
                    )
                )
    return out


@rule(
    "D1",
    title="With the default subnet pool, FIXED_RANGE/NETWORK_GATEWAY are not used",
    source="devstack lib/neutron_plugins/services/l3 (USE_SUBNETPOOL=True default; "
    "create_neutron_initial_network, _neutron_create_private_subnet_v4 --gateway "
    "$NETWORK_GATEWAY with --subnet-pool)",
)
def d1_subnetpool(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        if not node.has("q-svc", "neutron-api") or node.get("USE_SUBNETPOOL") != "True":
            continue
        pool_prefix = node.get("SUBNETPOOL_PREFIX_V4") or node.get("IPV4_ADDRS_SAFE_TO_USE")
        safe = net_or_none(pool_prefix)
        for name in ("FIXED_RANGE", "NETWORK_GATEWAY"):
            if name not in node.vars or not node.get(name):
                continue
            what = (
                (f"is ignored: the private subnet comes from the subnet pool {pool_prefix}")
                if name == "FIXED_RANGE"
                else (
                    "is passed as --gateway of a subnet allocated from the pool "
                    f"{pool_prefix}: private subnet creation fails"
                )
            )
            gw = ip_or_none(node.get(name))
            if name == "NETWORK_GATEWAY" and gw is not None and safe is not None and gw in safe:
                continue
            fixed = net_or_none(node.get(name)) if name == "FIXED_RANGE" else None
            if fixed is not None and safe is not None and fixed == safe:
                what = "is the subnet pool's own prefix: redundant (the subnet comes from the pool)"
            out.append(
                Finding.at(
                    "D1",
                    node.name,
                    node.src(name),
                    f"{name}={node.get(name)} {what}",
                    "drop the line"
                    if fixed is not None and fixed == safe
                    else "set USE_SUBNETPOOL=False to use FIXED_RANGE/NETWORK_GATEWAY",
                    severity="warning" if name == "FIXED_RANGE" else "error",
                )
            )
    return out
