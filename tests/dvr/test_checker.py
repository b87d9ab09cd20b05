"""Node checker on captured-state fixtures (captured in the sandbox by dvr-node.sh)."""

from __future__ import annotations

import pytest

from tenantfusion.dvr.checker import check
from tenantfusion.dvr.expected import ExpectedState, load_expected, plan_host
from tenantfusion.dvr.state import NodeState, load_state

from .conftest import FIXTURES

STATE = FIXTURES / "state"
EXPECTED = load_expected(path=FIXTURES / "expected-routers.json")


def _state(name: str) -> NodeState:
    return load_state(path=STATE / f"{name}.json")


def _rules(state: NodeState, role: str, **kw: object) -> set[str]:
    return {f.rule for f in check(state=state, role=role, expected=EXPECTED, **kw)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fixture", "role", "rules"),
    [
        ("network-ok", "network", set()),
        ("compute-ok", "compute", set()),
        ("network-no-brex-port", "network", {"R26"}),
        ("compute-no-brex-port", "compute", {"R26"}),
        ("network-no-qdhcp", "network", {"R27"}),
        ("compute-wrong-route", "compute", {"R29"}),
        # deleting the fip namespace also destroys the veth pair's rfp- end in qrouter
        ("compute-no-fip-ns", "compute", {"R27", "R28"}),
    ],
)
def test_fixture(fixture: str, role: str, rules: set[str]) -> None:
    assert _rules(_state(fixture), role) == rules


def test_messages_name_the_problem() -> None:
    findings = check(state=_state("compute-no-fip-ns"), role="compute", expected=EXPECTED)
    assert "fip-e0e1e2e3" in findings[0].message and findings[0].rule == "R27"


def test_network_node_namespaces_follow_state() -> None:
    plan = plan_host(expected=EXPECTED, host="net1", mode="dvr_snat")
    assert sorted(n.split("-")[0] for n in plan.namespaces) == ["qdhcp", "qrouter", "snat"]
    plan = plan_host(expected=EXPECTED, host="cmp1", mode="dvr")
    assert sorted(n.split("-")[0] for n in plan.namespaces) == ["fip", "qrouter"]
    # R25: a compute node with no bound port of the router's subnets has no qrouter
    assert plan_host(expected=EXPECTED, host="cmp9", mode="dvr").namespaces == {}
    # no floating IP on the VM: no fip namespace on the compute node
    bare = EXPECTED.model_copy(update={"floating_ips": []})
    assert sorted(plan_host(expected=bare, host="cmp1", mode="dvr").namespaces) == [
        "qrouter-5f2c7e0a-3b1d-4c6e-9a8f-0d1e2f3a4b5c"
    ]


def test_unexpected_namespace_is_reported() -> None:
    bare = EXPECTED.model_copy(update={"floating_ips": [], "ports": []})
    findings = check(state=_state("compute-ok"), role="compute", expected=bare)
    assert {f.rule for f in findings} == {"R27"}
    assert all("not expected" in f.message for f in findings)


def test_wrong_tunnel_address() -> None:
    data = EXPECTED.model_dump(mode="json")
    data["hosts"] = {"cmp1": {"tunnel_ip": "127.0.0.9"}}
    other = ExpectedState.model_validate(data)
    findings = check(state=_state("compute-ok"), role="compute", expected=other)
    assert [f.rule for f in findings] == ["R26"] and "local_ip" in findings[0].message


def test_dvr_no_external_needs_no_br_ex() -> None:
    state = _state("compute-no-brex-port")
    state.bridges = [b for b in state.bridges if b.name != "br-ex"]
    state.namespaces = []
    bare = ExpectedState()
    assert check(state=state, role="compute", expected=bare, mode="dvr_no_external") == []
    assert {f.rule for f in check(state=state, role="compute", expected=bare)} == {"R26"}


def test_missing_device_is_r28() -> None:
    state = _state("network-ok")
    snat = next(ns for ns in state.namespaces if ns.name.startswith("snat-"))
    snat.links = [x for x in snat.links if not x.ifname.startswith("sg-")]
    findings = check(state=state, role="network", expected=EXPECTED)
    assert [f.rule for f in findings] == ["R28"] and "sg-3c4d5e6f-70" in findings[0].message
