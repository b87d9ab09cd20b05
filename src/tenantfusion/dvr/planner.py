"""Plan a DVR deployment: local.conf and post-install.sh for every node of an inventory.

Output is deterministic (same inventory → same bytes) and rendered from the Jinja
templates in ``tenantfusion/dvr/templates``. Passwords are never written: each is a
shell reference to an environment variable (``ADMIN_PASSWORD="${DEVSTACK_ADMIN_PASSWORD:?...}"``)
that bash expands when stackrc sources the localrc section, so stack.sh stops with a
clear message when the variable is not exported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from tenantfusion.dvr.inventory import Inventory, Node

CONTROL_PLANE = (
    "key",
    "n-api",
    "n-cond",
    "n-sch",
    "n-novnc",
    "n-api-meta",
    "placement-api",
    "g-api",
    "mysql",
    "rabbit",
)
NETWORK_SERVICES = ("q-svc", "q-agt", "q-dhcp", "q-l3", "q-meta")
COMPUTE_SERVICES = ("n-cpu", "placement-client", "q-agt", "q-l3", "q-meta")


@dataclass(frozen=True)
class Var:
    """One localrc variable, and the inventory field it comes from."""

    name: str
    value: str
    field: str  # inventory field ("node." means this node's entry)


def node_services(*, node: Node) -> list[str]:
    """The node's ENABLED_SERVICES (R8): control plane + Neutron on the network node."""
    if node.role == "network":
        return [*CONTROL_PLANE, *NETWORK_SERVICES]
    return list(COMPUTE_SERVICES)


def node_variables(*, inventory: Inventory, node: Node) -> list[Var]:
    """The localrc variables of a node, in output order (passwords excluded)."""
    net = inventory.network
    ctrl = inventory.controller or node
    ctrl_ip = str(ctrl.management_ip)
    ctrl_field = (
        f"nodes[{inventory.nodes.index(ctrl)}].management_ip"
        if ctrl in inventory.nodes
        else "node.management_ip"
    )
    pool = net.floating_pool
    out = [
        Var("HOST_IP", str(node.management_ip), "node.management_ip"),
        Var("SERVICE_HOST", ctrl_ip, ctrl_field),
        Var("MYSQL_HOST", ctrl_ip, ctrl_field),
        Var("RABBIT_HOST", ctrl_ip, ctrl_field),
        Var("Q_AGENT", "openvswitch", "node.role"),
        Var("Q_ML2_PLUGIN_MECHANISM_DRIVERS", "openvswitch,l2population", "node.role"),
        Var("Q_ML2_TENANT_NETWORK_TYPE", net.tenant_network_type, "network.tenant_network_type"),
        Var("Q_DVR_MODE", node.mode, "node.dvr_mode" if node.dvr_mode else "node.role"),
        Var("TUNNEL_ENDPOINT_IP", str(node.tunnel_ip), "node.tunnel_ip"),
        Var("PHYSICAL_NETWORK", net.public_physical_network, "network.public_physical_network"),
        Var(
            "PUBLIC_PHYSICAL_NETWORK",
            net.public_physical_network,
            "network.public_physical_network",
        ),
        Var("FLOATING_RANGE", str(net.floating_range), "network.floating_range"),
    ]
    if node.needs_br_ex and node.external_interface:
        out.append(Var("PUBLIC_INTERFACE", node.external_interface, "node.external_interface"))
    if node.role == "network":
        out += [
            Var(
                "Q_FLOATING_ALLOCATION_POOL",
                f"start={pool.start},end={pool.end}",
                "network.floating_pool",
            ),
            Var("PUBLIC_NETWORK_GATEWAY", str(net.public_gateway), "network.public_gateway"),
            Var("USE_SUBNETPOOL", "False", "network.fixed_range"),
            Var("IPV4_ADDRS_SAFE_TO_USE", str(net.fixed_range), "network.fixed_range"),
            Var("FIXED_RANGE", str(net.fixed_range), "network.fixed_range"),
        ]
    return out


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tenantfusion.dvr", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 - renders local.conf and shell, not HTML
    )
    return env


def render_node(*, inventory: Inventory, node: Node) -> dict[str, str]:
    """Render ``local.conf`` and ``post-install.sh`` of one node."""
    env = _environment()
    net = inventory.network
    context = {
        "inventory": inventory,
        "node": node,
        "variables": node_variables(inventory=inventory, node=node),
        "services": ",".join(node_services(node=node)),
        "passwords": sorted(inventory.passwords.env_names().items()),
        "mtu": node.mtu or net.underlay_mtu,
        "prefixlen": net.floating_range.prefixlen,
    }
    return {
        "local.conf": env.get_template("local.conf.j2").render(context),
        "post-install.sh": env.get_template("post-install.sh.j2").render(context),
    }


def render(*, inventory: Inventory) -> dict[str, dict[str, str]]:
    """Render every node: ``{node: {filename: text}}``, in inventory order."""
    return {node.name: render_node(inventory=inventory, node=node) for node in inventory.nodes}


def write_plan(*, inventory: Inventory, outdir: Path) -> list[Path]:
    """Write outdir/<node>/local.conf and post-install.sh; return the written paths."""
    written: list[Path] = []
    for name, files in render(inventory=inventory).items():
        folder = outdir / name
        folder.mkdir(parents=True, exist_ok=True)
        for filename, text in files.items():
            path = folder / filename
            path.write_text(text, encoding="utf-8")
            if filename.endswith(".sh"):
                path.chmod(0o755)
            written.append(path)
    return written
