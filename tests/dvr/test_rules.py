"""Every configuration rule: one passing and one failing case.

The baseline is the planner's output for the example inventory (it passes every rule);
each failing case changes one line of one generated file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantfusion.dvr.rules import REGISTRY
from tenantfusion.dvr.validator import deployment_from_files, validate

# rule -> (node, file, old text, new text) that breaks it
BREAKS: dict[str, tuple[str, str, str, str]] = {
    "R1": ("cmp1", "local.conf", "\nQ_AGENT=", "\nENABLED_SERVICES+= q-qos\nQ_AGENT="),
    "R2": ("net1", "local.conf", "Q_AGENT=openvswitch\n", ""),
    "R3": ("net1", "local.conf", "\nQ_AGENT=", "\nenable_service ovn-northd\nQ_AGENT="),
    "R4": ("cmp1", "local.conf", "agent_mode = dvr\n", "agent_mode = legacy\n"),
    "R5": ("net1", "local.conf", "TYPE=vxlan", "TYPE=gre"),
    "R6": (
        "net1",
        "local.conf",
        "DRIVERS=openvswitch,l2population",
        "DRIVERS=openvswitch,linuxbridge,l2population",
    ),
    "R7": ("cmp1", "local.conf", "l2_population = True", "l2_population = False"),
    "R8": ("cmp1", "local.conf", "q-agt,q-l3,q-meta", "q-agt,q-meta"),
    "R9": (
        "cmp2",
        "local.conf",
        "TUNNEL_ENDPOINT_IP=198.51.100.12",
        "TUNNEL_ENDPOINT_IP=198.51.100.11",
    ),
    "R10": ("cmp1", "local.conf", "PUBLIC_INTERFACE=eth1\n", ""),  # + R10_SCRIPT below
    "R11": ("cmp1", "local.conf", "PUBLIC_INTERFACE=eth1", "PUBLIC_INTERFACE=br-int"),
    "R12": (
        "net1",
        "local.conf",
        "start=203.0.113.100,end=203.0.113.200",
        "start=203.0.113.200,end=203.0.113.100",
    ),
    "R13": ("net1", "local.conf", "GATEWAY=203.0.113.1\n", "GATEWAY=203.0.113.150\n"),
    "R14": ("net1", "post-install.sh", "203.0.113.2/24", "203.0.113.150/24"),
    "R15": ("net1", "local.conf", "HOST_IP=198.51.100.10", "HOST_IP=203.0.113.10"),
    "R16": ("net1", "local.conf", "FIXED_RANGE=10.1.1.0/24", "FIXED_RANGE=203.0.113.0/25"),
    "R17": ("net1", "local.conf", "end=203.0.113.200", "end=203.0.113.101"),
    "R18": ("cmp1", "post-install.sh", "--may-exist add-port", "add-port"),
    "R19": ("net1", "local.conf", "global_physnet_mtu = 1550", "global_physnet_mtu = 1300"),
    "R20": ("net1", "local.conf", "FIXED_RANGE=10.1.1.0/24", "FIXED_RANGE=169.254.10.0/24"),
    "R21": ("net1", "local.conf", "router_distributed = True", "router_distributed = False"),
    "R22": ("cmp1", "local.conf", "agent_mode = dvr\n", "agent_mode = dvr_snat\n"),
    "D1": ("net1", "local.conf", "USE_SUBNETPOOL=False\n", ""),
    "D2": ("cmp1", "local.conf", "SERVICE_HOST=198.51.100.10", "SERVICE_HOST=198.51.100.11"),
}

R10_SCRIPT = ("cmp1", "post-install.sh", "ovs-vsctl --may-exist add-port br-ex eth1\n", "")

# rule -> (node, file, old, new) that is a *different* configuration still passing it
PASSES: dict[str, tuple[str, str, str, str]] = {
    "R1": ("cmp1", "local.conf", "\nQ_AGENT=", "\nENABLED_SERVICES+=,q-qos\nQ_AGENT="),
    "R3": ("net1", "local.conf", "\nQ_AGENT=", "\ndisable_service ovn-northd\nQ_AGENT="),
    "R4": ("cmp2", "local.conf", "Q_DVR_MODE=dvr_no_external", "Q_DVR_MODE=dvr"),
    "R10": ("cmp2", "local.conf", "TUNNEL", "PUBLIC_INTERFACE=eth2\nTUNNEL"),
    "R18": (
        "cmp1",
        "post-install.sh",
        "ovs-vsctl --may-exist add-port br-ex eth1",
        "ovs-vsctl list-ports br-ex | grep -qx eth1 || ovs-vsctl add-port br-ex eth1",
    ),
    "R19": ("net1", "local.conf", "global_physnet_mtu = 1550", "global_physnet_mtu = 9000"),
    "D1": ("net1", "local.conf", "NETWORK", "NETWORK"),  # FIXED_RANGE with USE_SUBNETPOOL=False
}

CONFIG_RULES = sorted(r for r, rule in REGISTRY.items() if rule.check is not None)


def _edit(plan: Path, node: str, name: str, old: str, new: str) -> None:
    path = plan / node / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _rules(plan: Path) -> set[str]:
    return {f.rule for f in validate(deployment=deployment_from_files(paths=[plan]))}


def test_every_config_rule_has_cases() -> None:
    assert set(BREAKS) == set(CONFIG_RULES)
    assert set(CONFIG_RULES) >= {f"R{i}" for i in range(1, 23)}


def test_planner_output_is_the_passing_baseline(plan_dir: Path) -> None:
    assert _rules(plan_dir) == set()


@pytest.mark.parametrize("rule_id", sorted(BREAKS))
def test_rule_fails(plan_dir: Path, rule_id: str) -> None:
    _edit(plan_dir, *BREAKS[rule_id])
    if rule_id == "R10":
        _edit(plan_dir, *R10_SCRIPT)
    assert rule_id in _rules(plan_dir)


@pytest.mark.parametrize("rule_id", sorted(BREAKS))
def test_rule_passes(plan_dir: Path, rule_id: str) -> None:
    if rule_id in PASSES:
        _edit(plan_dir, *PASSES[rule_id])
    assert rule_id not in _rules(plan_dir)


def test_finding_points_at_line_and_fix(plan_dir: Path) -> None:
    _edit(plan_dir, *BREAKS["R5"])
    finding = next(
        f for f in validate(deployment=deployment_from_files(paths=[plan_dir])) if f.rule == "R5"
    )
    line = (plan_dir / "net1" / "local.conf").read_text().splitlines()[finding.line - 1]
    assert line == "Q_ML2_TENANT_NETWORK_TYPE=gre"
    assert finding.node == "net1" and "vxlan" in finding.fix


def test_r1_no_comma_glues_names(plan_dir: Path) -> None:
    _edit(plan_dir, "cmp1", "local.conf", "\nQ_AGENT=", "\nENABLED_SERVICES+=q-qos\nQ_AGENT=")
    assert "R1" in _rules(plan_dir)


def test_r1_append_after_disable_all_services_passes(plan_dir: Path) -> None:
    _edit(
        plan_dir,
        "cmp1",
        "local.conf",
        "ENABLED_SERVICES=n-cpu,",
        "disable_all_services\nENABLED_SERVICES+=n-cpu,",
    )
    assert _rules(plan_dir) == set()


def test_r22_agent_option_in_unread_file(plan_dir: Path) -> None:
    _edit(
        plan_dir,
        "cmp1",
        "local.conf",
        "[[post-config|/$Q_PLUGIN_CONF_FILE]]",
        "[[post-config|$Q_PLUGIN_CONF_FILE]]",
    )
    assert "R22" in _rules(plan_dir)


def test_registry_records_sources() -> None:
    for rule_id in [f"R{i}" for i in range(1, 30)] + ["D1", "D2"]:
        rule = REGISTRY[rule_id]
        assert rule.source and rule.title
        assert ("devstack" in rule.source) or ("neutron" in rule.source)


def test_readme_lists_every_rule() -> None:
    readme = (Path(__file__).parents[2] / "src/tenantfusion/dvr/README.md").read_text()
    for rule_id in REGISTRY:
        assert f"\n| {rule_id} |" in readme, rule_id


INVENTORY_BREAKS = {
    # rule -> (old, new) in the example inventory, and the field the finding names
    "R9": (("tunnel_ip: 198.51.100.12", "tunnel_ip: 198.51.100.11"), "nodes[2].tunnel_ip"),
    "R10": (
        ("    external_interface: eth1\n  - name: cmp2", "  - name: cmp2"),
        "nodes[1].external_interface",
    ),
    "R13": (
        ("public_gateway: 203.0.113.1", "public_gateway: 203.0.113.150"),
        "network.public_gateway",
    ),
    "R14": (("external_ip: 203.0.113.2", "external_ip: 203.0.113.150"), "nodes[0].external_ip"),
    "R15": (
        ("management_ip: 198.51.100.11", "management_ip: 203.0.113.11"),
        "nodes[1].management_ip",
    ),
    "R17": (("end: 203.0.113.200", "end: 203.0.113.101"), "network.floating_pool"),
    "R19": (("underlay_mtu: 1550", "underlay_mtu: 1500"), "network.underlay_mtu"),
    "R4": (("role: network ", "role: compute "), "nodes[0].role"),
}


@pytest.mark.parametrize("rule_id", sorted(INVENTORY_BREAKS))
def test_inventory_rule_names_the_field(rule_id: str) -> None:
    from tenantfusion.dvr.inventory import parse_inventory
    from tenantfusion.dvr.validator import deployment_from_inventory

    from .conftest import EXAMPLE

    (old, new), field = INVENTORY_BREAKS[rule_id]
    text = EXAMPLE.read_text()
    assert old in text
    inv, lines = parse_inventory(text=text.replace(old, new))
    dep = deployment_from_inventory(inventory=inv, lines=lines, path="inv.yaml")
    findings = [f for f in validate(deployment=dep) if f.rule == rule_id]
    assert findings, rule_id
    assert any(f.field == field and f.line for f in findings), [f.field for f in findings]
