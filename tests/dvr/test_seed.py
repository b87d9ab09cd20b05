"""The seed's "Enable DVR with DevStack" configuration: a failing regression fixture.

The two local.conf fragments are taken verbatim from the seed and wrapped in
``[[local|localrc]]`` (DevStack ignores lines outside a meta-section); the seed's manual
commands after the compute node section are the compute node's post-install script.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tenantfusion.dvr.localconf import parse_file
from tenantfusion.dvr.validator import deployment_from_files, validate

from .conftest import FIXTURES

NETWORK = FIXTURES / "seed-network.local.conf"
COMPUTE = FIXTURES / "seed-compute.local.conf"

EXPECTED = {
    "seed-network": {"R2", "R3", "R5", "R6", "R15", "D1"},
    "seed-compute": {"R1", "R2", "R3", "R5", "R6", "R8", "R14", "R15", "R18", "D2"},
}


def _by_node() -> dict[str, set[str]]:
    findings = validate(deployment=deployment_from_files(paths=[NETWORK, COMPUTE]))
    out: dict[str, set[str]] = {}
    for f in findings:
        out.setdefault(f.node, set()).add(f.rule)
    return out


def test_seed_fails_with_exactly_the_rules_it_breaks() -> None:
    by_node = _by_node()
    assert by_node == EXPECTED
    rules = set().union(*by_node.values())
    assert rules >= {"R1", "R2", "R3", "R5", "R6", "R8", "R14", "R15", "R18"}


#: rules that fail the seed as errors. The others are warnings: R6's list is ignored in DVR
#: mode (lib/neutron forces openvswitch,l2population), R18 concerns re-runs, R15's tunnel
#: addresses lie outside the allocation pool (their connected /24 routes beat br-ex's /16),
#: R8's missing q-meta does not stop routing, and D1's FIXED_RANGE is only ignored (its
#: NETWORK_GATEWAY breaks subnet creation: error).
ERRORS = {
    "seed-network": {"R2", "R3", "R5", "D1"},
    "seed-compute": {"R1", "R2", "R3", "R5", "R8", "R14", "D2"},
}


def test_seed_errors_and_warnings() -> None:
    findings = validate(deployment=deployment_from_files(paths=[NETWORK, COMPUTE]))
    errors: dict[str, set[str]] = {}
    for f in findings:
        if f.is_error:
            errors.setdefault(f.node, set()).add(f.rule)
    assert errors == ERRORS
    d1 = {f.severity: f.message for f in findings if f.rule == "D1"}
    assert "FIXED_RANGE" in d1["warning"] and "NETWORK_GATEWAY" in d1["error"]


def test_seed_fixture_is_verbatim_from_the_seed() -> None:
    conf = parse_file(path=COMPUTE)
    assert [s.group for s in conf.sections] == ["local"]
    assert conf.sections[0].lines[2].text == "ENABLED_SERVICES+= q-agt,q-l3,q-meta, neutron"
    script = (FIXTURES / "seed-compute.post-install.sh").read_text().splitlines()
    assert "$ sudo ip route add 192.168.0.0/16 via 192.168.137.171" in script


def test_seed_details() -> None:
    findings = validate(deployment=deployment_from_files(paths=[NETWORK, COMPUTE]))
    r18 = [f for f in findings if f.rule == "R18"]
    assert [f.line for f in r18] == [3, 4, 5]
    r8 = " ".join(f.message for f in findings if f.rule == "R8")
    assert "lacks q-agt, q-l3 " in r8 and "lacks q-meta" in r8 and "runs q-svc" in r8
    r14 = next(f for f in findings if f.rule == "R14")
    assert "192.168.137.253" in r14.message


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_r1_bash_really_keeps_the_old_list() -> None:
    """What R1 claims: bash runs the words as a command and keeps ENABLED_SERVICES."""
    script = "ENABLED_SERVICES=key,q-svc\nENABLED_SERVICES+= q-agt,q-l3,q-meta, neutron\n"
    script += 'echo "$ENABLED_SERVICES"\n'
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=10,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.strip() == "key,q-svc"
    assert "command not found" in done.stderr
