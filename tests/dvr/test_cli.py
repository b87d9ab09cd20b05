"""CLI: tenantfusion dvr plan / validate / check / capture via Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenantfusion.cli import app
from tenantfusion.dvr import state as state_mod
from tenantfusion.dvr.state import NodeState

from .conftest import EXAMPLE, FIXTURES

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["dvr", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_plan_then_validate(tmp_path: Path) -> None:
    code, out, _ = run("plan", str(EXAMPLE), "-o", str(tmp_path / "out"))
    assert code == 0 and out.count("wrote ") == 6
    code, out, _ = run("validate", str(tmp_path / "out"))
    assert code == 0 and "no problems found" in out
    code, out, _ = run("validate", str(EXAMPLE), "--output", "json")
    assert code == 0 and json.loads(out) == {"ok": True, "findings": []}


def test_validate_seed_json() -> None:
    code, out, _ = run(
        "validate",
        str(FIXTURES / "seed-network.local.conf"),
        str(FIXTURES / "seed-compute.local.conf"),
        "--output",
        "json",
    )
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    r1 = next(f for f in data["findings"] if f["rule"] == "R1")
    assert (r1["node"], r1["line"]) == ("seed-compute", 6) and r1["fix"]


def test_validate_seed_table() -> None:
    code, out, _ = run(
        "validate",
        str(FIXTURES / "seed-network.local.conf"),
        str(FIXTURES / "seed-compute.local.conf"),
    )
    assert code == 1 and "R18" in out and "error(s)" in out and "warning" in out


def test_plan_refuses_rule_breaking_inventory(tmp_path: Path) -> None:
    bad = tmp_path / "inv.yaml"
    bad.write_text(
        EXAMPLE.read_text().replace("external_ip: 203.0.113.2", "external_ip: 203.0.113.150")
    )
    code, out, err = run("plan", str(bad), "-o", str(tmp_path / "out"), "--output", "json")
    assert code == 1 and not (tmp_path / "out").exists()
    finding = json.loads(out)["findings"][0]
    assert finding["rule"] == "R14" and finding["field"] == "nodes[0].external_ip"
    assert finding["line"] == 22
    assert "nothing written" in err
    code, _, _ = run("plan", str(bad), "-o", str(tmp_path / "out"), "--force")
    assert code == 0 and (tmp_path / "out" / "net1" / "local.conf").exists()


def test_invalid_inventory_one_line_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "inv.yaml"
    bad.write_text(EXAMPLE.read_text().replace("198.51.100.11", "198.51.100.311"))
    code, out, err = run("validate", str(bad))
    assert code == 2 and "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert lines == [
        f"error: {bad}: nodes[1].management_ip (line 25): Input is not a valid IPv4 address",
        f"error: {bad}: nodes[1].tunnel_ip (line 26): Input is not a valid IPv4 address",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "/nonexistent/local.conf"),
        ("plan", "/nonexistent/inv.yaml", "-o", "/tmp/x"),
        ("check", "--role", "compute", "--state", "/nonexistent.json"),
        (
            "check",
            "--role",
            "compute",
            "--state",
            str(FIXTURES / "state" / "compute-ok.json"),
            "--expect",
            str(FIXTURES / "seed-compute.local.conf"),
        ),
        ("check", "--role", "compute", "--mode", "bogus"),
    ],
)
def test_errors_are_one_line(args: tuple[str, ...]) -> None:
    code, out, err = run(*args)
    assert code == 2 and "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")


def test_check_captured_state() -> None:
    expect = str(FIXTURES / "expected-routers.json")
    code, out, _ = run(
        "check",
        "--role",
        "compute",
        "--state",
        str(FIXTURES / "state" / "compute-ok.json"),
        "--expect",
        expect,
    )
    assert code == 0 and "ok: cmp1" in out
    code, out, _ = run(
        "check",
        "--role",
        "compute",
        "--state",
        str(FIXTURES / "state" / "compute-wrong-route.json"),
        "--expect",
        expect,
        "--output",
        "json",
    )
    assert code == 1 and [f["rule"] for f in json.loads(out)["findings"]] == ["R29"]


def test_capture_writes_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    captured = state_mod.load_state(path=FIXTURES / "state" / "network-ok.json")

    def fake_capture(*, host: str | None = None) -> NodeState:
        return captured

    monkeypatch.setattr(state_mod, "capture", fake_capture)
    code, out, _ = run("capture", "-o", str(tmp_path / "s.json"))
    assert code == 0 and "4 bridges" not in out and "3 bridges" in out
    assert state_mod.load_state(path=tmp_path / "s.json") == captured


def test_unexpected_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*, host: str | None = None) -> NodeState:
        raise ValueError("boom")

    monkeypatch.setattr(state_mod, "capture", boom)
    code, out, err = run("capture", "-o", "/tmp/unused.json")
    assert code == 2 and err.strip() == "error: internal error: ValueError: boom"


CORE_PLUGIN_CONF = """[[local|localrc]]
HOST_IP=10.0.0.5
SERVICE_HOST=10.0.0.2
ENABLED_SERVICES=n-cpu,placement-client,q-agt,q-l3,q-meta
Q_AGENT=openvswitch
Q_DVR_MODE=dvr
PUBLIC_INTERFACE=eth1

[[post-config|{target}]]
[agent]
enable_distributed_routing = [bold]True[/bold]
"""


def test_table_shows_markup_like_data_intact(tmp_path: Path) -> None:
    """File names, values and messages are never read as Rich markup."""
    conf = tmp_path / "cmp.local.conf"
    conf.write_text(CORE_PLUGIN_CONF.format(target="/$NEUTRON_CORE_PLUGIN_CONF"))
    code, out, _ = run("validate", str(conf))
    assert code == 1  # R22: the agent reads "[bold]True[/bold]", which is not True
    assert "[bold]True[/bold]" in out and "[[post-config|/$NEUTRON_CORE_PLUGIN_CONF]])" in out
    conf.write_text(CORE_PLUGIN_CONF.format(target="$NEUTRON_CORE_PLUGIN_CONF"))
    code, out, _ = run("validate", str(conf))
    assert code == 0  # not read: DevStack's own True applies; a warning says so
    assert "[[post-config|$NEUTRON_CORE_PLUGIN_CONF]]" in out
    assert "[[post-config|/$NEUTRON_CORE_PLUGIN_CONF]]" in out  # in the fix column
    assert "set in []" not in out and "use []" not in out


def test_warnings_exit_zero_unless_strict(tmp_path: Path) -> None:
    conf = tmp_path / "cmp.local.conf"
    conf.write_text(
        CORE_PLUGIN_CONF.format(target="$NEUTRON_CORE_PLUGIN_CONF").replace(
            "[bold]True[/bold]", "True"
        )
    )
    code, out, _ = run("validate", str(conf))
    assert code == 0 and "0 error(s), 2 warning(s)." in out
    for flag in ("--fail-on-warnings", "--strict"):
        code, out, _ = run("validate", str(conf), flag, "--output", "json")
        assert code == 1 and json.loads(out)["ok"] is False
    conf.write_text(conf.read_text().replace("|$NEUTRON_CORE", "|/$NEUTRON_CORE"))
    code, out, _ = run("validate", str(conf), "--output", "json")
    findings = json.loads(out)["findings"]
    assert code == 0 and [f["rule"] for f in findings] == ["R4"]  # partial: no server here
    assert findings[0]["severity"] == "warning"
