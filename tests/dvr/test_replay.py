"""DevStack's own code on the planner's output and on issue 15's hand-written deployment.

``fixtures/planner-replay.json`` and ``fixtures/issue15/replay.json`` are the output of
``corpus/replay/replay.py`` (DevStack's configuration functions + Neutron's option
definitions, pinned commits); the hashes tie them to the files they were made from, so a
planner change that is not replayed again fails here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tenantfusion.dvr import targets
from tenantfusion.dvr.cli import app
from tenantfusion.dvr.validator import deployment_from_files, validate

FIXTURES = Path(__file__).parent / "fixtures"
ISSUE15 = sorted((FIXTURES / "issue15").glob("*.local.conf"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _replay(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_planner_output_is_dvr_for_devstack(plan_dir: Path) -> None:
    replay = _replay(FIXTURES / "planner-replay.json")
    confs = {p.parent.name: p for p in plan_dir.glob("*/local.conf")}
    assert {n: _sha(p) for n, p in confs.items()} == {
        n: r["sha256"] for n, r in replay["nodes"].items()
    }, "planner output changed: replay it (tests/dvr/corpus/replay/replay.py)"
    assert replay["verdict"] == {"dvr": True, "problems": []}
    modes = {n: r["processes"]["l3-agent"]["values"] for n, r in replay["nodes"].items()}
    assert sorted(m["DEFAULT.agent_mode"] for m in modes.values()) == [
        "dvr",
        "dvr_no_external",
        "dvr_snat",
    ]
    assert not [
        f for f in validate(deployment=deployment_from_files(paths=[plan_dir])) if f.is_error
    ]


def test_issue15_deployment_no_false_alarm() -> None:
    """DevStack makes a DVR deployment of it: the validator gives no error, one D1 warning."""
    replay = _replay(FIXTURES / "issue15" / "replay.json")
    assert {p.name.removesuffix(".local.conf"): _sha(p) for p in ISSUE15} == {
        n: r["sha256"] for n, r in replay["nodes"].items()
    }
    assert replay["verdict"]["dvr"] is True
    findings = validate(deployment=deployment_from_files(paths=ISSUE15))
    assert [(f.rule, f.severity) for f in findings] == [("D1", "warning")]
    result = CliRunner().invoke(app, ["validate", *map(str, ISSUE15)])
    assert result.exit_code == 0 and "0 error(s), 1 warning(s)." in result.output
    result = CliRunner().invoke(app, ["validate", "--fail-on-warnings", *map(str, ISSUE15)])
    assert result.exit_code == 1


def test_target_table_is_what_devstack_sets() -> None:
    """targets.py's file variables and readers equal the values DevStack's replay recorded."""
    names = ("NEUTRON_CONF", "Q_PLUGIN_CONF_FILE", "NEUTRON_CORE_PLUGIN_CONF", "Q_L3_CONF_FILE")
    names += ("Q_DHCP_CONF_FILE", "Q_META_CONF_FILE")
    short = {"server": "q-svc", "ovs-agent": "q-agt", "l3-agent": "q-l3"}
    short |= {"dhcp-agent": "q-dhcp", "metadata-agent": "q-meta"}
    seen = 0
    for path in Path(__file__).parent.rglob("replay.json"):
        for node in _replay(path)["nodes"].values():
            if node["stage"] != "done":
                continue
            seen += 1
            assert {n: node["env"][n] for n in names} == {
                n: targets.DEVSTACK_FILES[n] for n in names
            }
            for process, loaded in node["processes"].items():
                assert tuple(loaded["files"]) == targets.READS[short[process]], process
    assert seen >= 20


def test_seed_is_not_dvr_for_devstack() -> None:
    """DevStack master makes the seed ML2/OVN with a server on both nodes; the validator fails."""
    replay = _replay(FIXTURES / "seed-replay.json")
    seed = sorted(FIXTURES.glob("seed-*.local.conf"))
    assert {p.name.removesuffix(".local.conf"): _sha(p) for p in seed} == {
        n: r["sha256"] for n, r in replay["nodes"].items()
    }
    assert replay["verdict"]["dvr"] is False
    compute = replay["nodes"]["seed-compute"]["env"]
    assert compute["Q_AGENT"] == "ovn" and "q-svc" in compute["ENABLED_SERVICES"].split(",")
    findings = validate(deployment=deployment_from_files(paths=seed))
    assert {"R1", "R2", "R8"} <= {f.rule for f in findings if f.is_error}
