"""State capture: decoding ip -j and ovs-vsctl --format=json, with a fake command runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tenantfusion.dvr.errors import StateError
from tenantfusion.dvr.state import bridges_from_ovs, capture, load_state, save_state

BRIDGE = {
    "headings": ["_uuid", "datapath_type", "fail_mode", "name", "ports"],
    "data": [
        [["uuid", "b1"], "netdev", "secure", "br-ex", ["set", [["uuid", "p1"], ["uuid", "p2"]]]],
        [["uuid", "b2"], "", ["set", []], "br-int", ["uuid", "p3"]],
    ],
}
PORT = {
    "headings": ["_uuid", "interfaces", "name"],
    "data": [
        [["uuid", "p1"], ["uuid", "i1"], "eth1"],
        [["uuid", "p2"], ["uuid", "i2"], "br-ex"],
        [["uuid", "p3"], ["uuid", "i3"], "patch-tun"],
    ],
}
IFACE = {
    "headings": ["_uuid", "name", "options", "type"],
    "data": [
        [["uuid", "i1"], "eth1", ["map", []], ""],
        [["uuid", "i2"], "br-ex", ["map", []], "internal"],
        [["uuid", "i3"], "patch-tun", ["map", [["peer", "patch-int"]]], "patch"],
    ],
}
ADDR = [
    {
        "ifname": "lo",
        "mtu": 65536,
        "operstate": "UNKNOWN",
        "link_type": "loopback",
        "addr_info": [
            {"family": "inet", "local": "127.0.0.1", "prefixlen": 8},
            {"family": "inet6", "local": "::1", "prefixlen": 128},
        ],
    }
]
ROUTES = [{"dst": "203.0.113.0/24", "dev": "br-ex", "protocol": "kernel"}]


def test_bridges_join_tables() -> None:
    bridges = bridges_from_ovs(bridges=BRIDGE, ports=PORT, interfaces=IFACE)
    assert [b.name for b in bridges] == ["br-ex", "br-int"]
    ex, integ = bridges
    assert ex.datapath_type == "netdev" and ex.fail_mode == "secure"
    assert list(ex.ports) == ["br-ex", "eth1"]
    assert integ.ports["patch-tun"][0].options == {"peer": "patch-int"}
    assert integ.fail_mode == ""


def fake_runner(calls: list[list[str]]):  # type: ignore[no-untyped-def]
    def run(cmd: list[str]) -> str:
        calls.append(cmd)
        if cmd[:3] == ["ip", "-j", "netns"]:
            return json.dumps([{"name": "qrouter-r1"}])
        if cmd[0] == "ovs-vsctl":
            return json.dumps({"Bridge": BRIDGE, "Port": PORT, "Interface": IFACE}[cmd[-1]])
        if "route" in cmd:
            return json.dumps(ROUTES)
        return json.dumps(ADDR)

    return run


def test_capture_with_fake_runner(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    state = capture(run=fake_runner(calls), host="cmp1")
    assert state.host == "cmp1"
    assert state.host_ns.links[0].addresses == ["127.0.0.1/8"]
    assert state.namespace("qrouter-r1") is not None
    assert ["ip", "-n", "qrouter-r1", "-j", "addr", "show"] in calls
    path = tmp_path / "s.json"
    save_state(state=state, path=path)
    assert load_state(path=path) == state


def test_empty_netns_output_means_none() -> None:
    def run(cmd: list[str]) -> str:
        return "" if cmd[:3] == ["ip", "-j", "netns"] else fake_runner([])(cmd)

    assert capture(run=run, host="h").namespaces == []


def test_bad_state_files(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="cannot read"):
        load_state(path=tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"host": 1}')
    with pytest.raises(StateError, match="not a captured state"):
        load_state(path=bad)


def test_command_failure_is_a_state_error() -> None:
    from tenantfusion.dvr.state import _run

    with pytest.raises(StateError, match="not found"):
        _run(["tf-no-such-command-xyz"])
