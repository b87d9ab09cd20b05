"""Validate a deployment: from local.conf files (and post-install scripts) or an inventory."""

from __future__ import annotations

from pathlib import Path

from tenantfusion.dvr import planner
from tenantfusion.dvr.errors import LocalConfError
from tenantfusion.dvr.inventory import Inventory
from tenantfusion.dvr.localconf import parse_file, parse_script
from tenantfusion.dvr.nodeconf import NodeConfig, Setting, Src, from_localconf
from tenantfusion.dvr.rules import Deployment, Finding, run


def _node_name(path: Path) -> str:
    if path.name == "local.conf":
        return path.resolve().parent.name
    return path.name.removesuffix(".conf").removesuffix(".local")


def _post_install_for(path: Path) -> Path | None:
    if path.name == "local.conf":
        candidate = path.parent / "post-install.sh"
    else:
        candidate = path.parent / f"{_node_name(path)}.post-install.sh"
    return candidate if candidate.is_file() else None


def expand_paths(*, paths: list[Path]) -> list[Path]:
    """Turn directories (a plan's output) into their ``*/local.conf`` files."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*/local.conf")) or sorted(path.glob("*.local.conf"))
            if not found:
                raise LocalConfError(f"{path}: no */local.conf or *.local.conf inside")
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise LocalConfError(f"{path}: no such file or directory")
    return out


def node_from_file(*, path: Path, post_install: Path | None = None) -> NodeConfig:
    """Build one node from a local.conf and its post-install script (found beside it)."""
    conf = parse_file(path=path)
    script = post_install or _post_install_for(path)
    commands = None
    if script is not None:
        try:
            commands = parse_script(text=script.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise LocalConfError(f"{script}: cannot read: {e}") from e
    return from_localconf(
        conf=conf,
        name=_node_name(path),
        post_install=commands,
        post_install_file=str(script) if script else None,
    )


def deployment_from_files(*, paths: list[Path]) -> Deployment:
    """A deployment of the nodes described by these local.conf files or plan directories."""
    return Deployment(nodes=[node_from_file(path=p) for p in expand_paths(paths=paths)])


def deployment_from_inventory(
    *, inventory: Inventory, lines: dict[str, int], path: str
) -> Deployment:
    """A deployment as the planner would configure it, each value pointing at its field."""
    nodes = []
    index = {n.name: i for i, n in enumerate(inventory.nodes)}
    for inv_node in inventory.nodes:
        i = index[inv_node.name]

        def src(field: str, i: int = i) -> Src:
            full = field.replace("node.", f"nodes[{i}].")
            return Src(path, lines.get(full), full)

        node = NodeConfig(
            name=inv_node.name,
            file=path,
            role=inv_node.role,
            role_src=src("node.role"),
            from_inventory=True,
        )
        for var in planner.node_variables(inventory=inventory, node=inv_node):
            node.vars[var.name] = Setting(var.value, src(var.field))
        node.services = planner.node_services(node=inv_node)
        node.services_src = src("node.role")
        if inv_node.external_interface and inv_node.needs_br_ex:
            node.brex_ports.append(
                Setting(inv_node.external_interface, src("node.external_interface"))
            )
        if inv_node.external_ip is not None:
            node.brex_addresses.append(Setting(str(inv_node.external_ip), src("node.external_ip")))
        nodes.append(node)
    net = inventory.network
    mtus = {}
    for n in inventory.nodes:
        field = f"nodes[{index[n.name]}].mtu" if n.mtu else "network.underlay_mtu"
        mtus[n.name] = Setting(str(n.mtu or net.underlay_mtu), Src(path, lines.get(field), field))
    return Deployment(
        nodes=nodes,
        expected_routers=net.expected_routers,
        expected_floating_ips=net.expected_floating_ips,
        tenant_mtu=net.tenant_mtu,
        node_mtus=mtus,
    )


def validate(*, deployment: Deployment) -> list[Finding]:
    """Run every configuration rule."""
    return run(deployment)
