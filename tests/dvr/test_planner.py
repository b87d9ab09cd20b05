"""Planner: deterministic, passes validation, no literal secrets, idempotent scripts."""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from tenantfusion.dvr import planner
from tenantfusion.dvr.inventory import Inventory, parse_inventory
from tenantfusion.dvr.localconf import parse_file
from tenantfusion.dvr.validator import deployment_from_files, deployment_from_inventory, validate

from .conftest import EXAMPLE

BASH = shutil.which("bash")


def test_writes_every_node(plan_dir: Path, inventory: Inventory) -> None:
    for node in inventory.nodes:
        assert (plan_dir / node.name / "local.conf").is_file()
        script = plan_dir / node.name / "post-install.sh"
        assert script.stat().st_mode & 0o111


def test_deterministic(tmp_path: Path, inventory: Inventory) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    planner.write_plan(inventory=inventory, outdir=a)
    planner.write_plan(inventory=inventory, outdir=b)
    planner.write_plan(inventory=inventory, outdir=b)  # re-running overwrites identically
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
    assert planner.render(inventory=inventory) == planner.render(inventory=inventory)


def test_output_passes_validation(plan_dir: Path, inventory: Inventory) -> None:
    assert validate(deployment=deployment_from_files(paths=[plan_dir])) == []
    inv, lines = parse_inventory(text=EXAMPLE.read_text())
    assert (
        validate(deployment=deployment_from_inventory(inventory=inv, lines=lines, path="x")) == []
    )


def test_current_devstack_settings(plan_dir: Path) -> None:
    net = parse_file(path=plan_dir / "net1" / "local.conf")
    values = {s.name: s.value for s in net.localrc() if s.kind == "assign"}
    assert values["Q_AGENT"] == "openvswitch"
    assert values["Q_DVR_MODE"] == "dvr_snat"
    assert values["Q_ML2_TENANT_NETWORK_TYPE"] == "vxlan"
    assert values["Q_ML2_PLUGIN_MECHANISM_DRIVERS"] == "openvswitch,l2population"
    assert not any(s.startswith(("ovn", "q-ovn")) for s in values["ENABLED_SERVICES"].split(","))
    targets = [s.target for s in net.sections if s.group == "post-config"]
    assert targets == ["$NEUTRON_CONF", "/$Q_PLUGIN_CONF_FILE", "$Q_L3_CONF_FILE"]
    entries = {(e.target, e.section, e.key): e.value for e in net.post_config()}
    assert entries[("/$Q_PLUGIN_CONF_FILE", "agent", "enable_distributed_routing")] == "True"
    assert entries[("/$Q_PLUGIN_CONF_FILE", "ovs", "local_ip")] == "198.51.100.10"
    cmp2 = parse_file(path=plan_dir / "cmp2" / "local.conf")
    assert "PUBLIC_INTERFACE" not in {s.name for s in cmp2.localrc()}


def test_no_literal_secrets(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("env:DEVSTACK_ADMIN_PASSWORD", "env:TF_SECRET_REF")
    inv, _ = parse_inventory(text=text)
    rendered = planner.render(inventory=inv)
    conf = rendered["net1"]["local.conf"]
    assert 'ADMIN_PASSWORD="${TF_SECRET_REF:?' in conf
    assert "env:" not in conf


def test_templates_are_package_data() -> None:
    names = {p.name for p in resources.files("tenantfusion.dvr").joinpath("templates").iterdir()}
    assert {"local.conf.j2", "post-install.sh.j2"} <= names


def _localrc(path: Path) -> str:
    conf = parse_file(path=path)
    return "\n".join(line.text for line in conf.sections[0].lines) + "\n"


@pytest.mark.skipif(BASH is None, reason="bash not installed")
def test_bash_reads_passwords_from_environment(plan_dir: Path) -> None:
    """stackrc sources the localrc section with bash: the references expand there."""
    localrc = _localrc(plan_dir / "cmp1" / "local.conf")
    script = localrc + 'echo "$ADMIN_PASSWORD|$ENABLED_SERVICES|$Q_DVR_MODE"\n'
    env = {
        "PATH": "/usr/bin:/bin",
        "DEVSTACK_ADMIN_PASSWORD": "a1",
        "DEVSTACK_DB_PASSWORD": "d",
        "DEVSTACK_RABBIT_PASSWORD": "r",
        "DEVSTACK_SERVICE_PASSWORD": "s",
    }
    done = subprocess.run([BASH, "-c", script], capture_output=True, text=True, env=env, timeout=10)
    assert done.stdout.strip() == "a1|n-cpu,placement-client,q-agt,q-l3,q-meta|dvr"
    env.pop("DEVSTACK_ADMIN_PASSWORD")
    done = subprocess.run([BASH, "-c", script], capture_output=True, text=True, env=env, timeout=10)
    assert done.returncode != 0
    assert "export DEVSTACK_ADMIN_PASSWORD before running stack.sh" in done.stderr


@pytest.mark.skipif(BASH is None, reason="bash not installed")
def test_post_install_scripts_are_valid_bash(plan_dir: Path) -> None:
    for script in sorted(plan_dir.glob("*/post-install.sh")):
        assert subprocess.run([BASH, "-n", str(script)], timeout=10).returncode == 0
        text = script.read_text()
        assert "ip route add" not in text and "ifconfig" not in text
    text = (plan_dir / "net1" / "post-install.sh").read_text()
    assert "ovs-vsctl --may-exist add-port br-ex eth1" in text
    assert "ip addr replace 203.0.113.2/24 dev br-ex" in text
    assert "ip route replace 203.0.113.0/24 dev br-ex" in text
