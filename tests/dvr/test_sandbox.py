"""Live test: build DVR node layouts in a private sandbox and run the checker on them.

Runs tests/dvr/sandbox/dvr-node.sh under ``unshare --mount --net --propagation private``:
private network namespace, tmpfs over /run (so /run/netns and the OVS run/db/log dirs
are private), its own ovsdb-server and ovs-vswitchd (userspace datapath), killed by pid
when the script exits. Needs root, unshare, ip and Debian's openvswitch-switch.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tenantfusion.dvr.checker import check
from tenantfusion.dvr.expected import load_expected
from tenantfusion.dvr.state import load_state

from .conftest import FIXTURES

SCRIPT = Path(__file__).parent / "sandbox" / "dvr-node.sh"
TOOLS = ("unshare", "ip", "ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl")
SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (unshare --net, namespaces, OVS)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing {', '.join(missing)}: apt-get install -y openvswitch-switch iproute2"
    if not SCHEMA.exists():
        return f"missing {SCHEMA} (openvswitch-common)"
    return None


pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or ""),
]


def _run_sandbox(role: str, out: Path) -> None:
    cmd = [
        "unshare",
        "--mount",
        "--net",
        "--propagation",
        "private",
        "bash",
        str(SCRIPT),
        role,
        str(out),
        sys.executable,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sandbox")
    _run_sandbox("network", out)
    _run_sandbox("compute", out)
    return out


EXPECTED = load_expected(path=FIXTURES / "expected-routers.json")


@pytest.mark.parametrize(
    ("capture", "role", "rules"),
    [
        ("network-ok", "network", set()),
        ("compute-ok", "compute", set()),
        ("network-no-brex-port", "network", {"R26"}),
        ("compute-no-brex-port", "compute", {"R26"}),
        ("network-no-qdhcp", "network", {"R27"}),
        ("compute-wrong-route", "compute", {"R29"}),
        ("compute-no-fip-ns", "compute", {"R27", "R28"}),
    ],
)
def test_live_layout(captures: Path, capture: str, role: str, rules: set[str]) -> None:
    state = load_state(path=captures / f"{capture}.json")
    findings = check(state=state, role=role, expected=EXPECTED)
    assert {f.rule for f in findings} == rules, [f.message for f in findings]


def test_live_bridges_are_private_and_secure(captures: Path) -> None:
    state = load_state(path=captures / "compute-ok.json")
    assert {b.name for b in state.bridges} == {"br-int", "br-tun", "br-ex"}
    assert all(b.datapath_type == "netdev" and b.fail_mode == "secure" for b in state.bridges)
    vxlan = state.bridge("br-tun").ports["vxlan-7f000002"][0]  # type: ignore[union-attr]
    assert vxlan.options["local_ip"] == "127.0.0.2" and vxlan.options["remote_ip"] == "127.0.0.1"


def test_sandbox_leaves_nothing_behind(captures: Path) -> None:
    assert not Path("/run/netns/qrouter-5f2c7e0a-3b1d-4c6e-9a8f-0d1e2f3a4b5c").exists()
    daemons = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True).stdout
    live = [
        line
        for line in daemons.splitlines()
        if "/run/tf-ovs/" in line and not line.lstrip().startswith("Z")
    ]
    assert live == []
