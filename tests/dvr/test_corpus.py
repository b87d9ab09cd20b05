"""The corpus of real DevStack configurations (tests/dvr/corpus/INDEX.yaml): every verdict pinned.

Each entry's verdict is what DevStack's and Neutron's own code make of it: ``replay.json``
beside the files is the output of ``corpus/replay/replay.py``, which replays DevStack's
configuration functions (pinned commit) on each node's local.conf and reads the files they
write with Neutron's option definitions (pinned commit). ``ok`` entries are the ones that
replay judges a valid ML2/OVS DVR deployment: the validator must report no error on them
(warnings allowed); every other entry must get at least one error.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tenantfusion.dvr import targets
from tenantfusion.dvr.validator import deployment_from_files, validate

CORPUS = Path(__file__).parent / "corpus"
INDEX: list[dict[str, Any]] = yaml.safe_load((CORPUS / "INDEX.yaml").read_text())["entries"]
IDS = [e["id"] for e in INDEX]
_SPEC = importlib.util.spec_from_file_location("dvr_replay", CORPUS / "replay" / "replay.py")
assert _SPEC and _SPEC.loader
replay_tool = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(replay_tool)


def _rules(entry: dict[str, Any]) -> tuple[set[str], set[str]]:
    paths = [CORPUS / entry["id"] / name for name in entry["files"]]
    findings = validate(deployment=deployment_from_files(paths=paths))
    errors = {f.rule for f in findings if f.is_error}
    return errors, {f.rule for f in findings if not f.is_error}


def _replay(entry: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPUS / entry["id"] / "replay.json").read_text())
    return data


def test_index_covers_the_corpus() -> None:
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_dir() and p.name[0] not in "_."}
    on_disk.discard("replay")
    assert on_disk == set(IDS)
    for entry in INDEX:
        files = {p.name for p in (CORPUS / entry["id"]).glob("*.local.conf")}
        assert files == set(entry["files"]), entry["id"]
        assert "/" in entry["repo"] and len(entry["commit"]) == 40
        assert entry["why"] and entry["verdict"] in ("ok", "fail")
    assert sum(e["kind"] == "dvr" for e in INDEX) >= 20
    assert {e["kind"] for e in INDEX} == {"dvr", "legacy", "ovn"}


@pytest.mark.parametrize("entry", INDEX, ids=IDS)
def test_replay_is_current(entry: dict[str, Any]) -> None:
    """replay.json was made from these very files, at the commits the validator follows."""
    replay = _replay(entry)
    assert (replay["devstack"], replay["neutron"]) == (
        targets.DEVSTACK_COMMIT,
        targets.NEUTRON_COMMIT,
    )
    for name in entry["files"]:
        node = replay["nodes"][name.removesuffix(".local.conf")]
        digest = hashlib.sha256((CORPUS / entry["id"] / name).read_bytes()).hexdigest()
        assert node["sha256"] == digest, name


@pytest.mark.parametrize("entry", INDEX, ids=IDS)
def test_verdict_is_devstacks(entry: dict[str, Any]) -> None:
    """The index's verdict is the replay's: ok exactly when DevStack + Neutron give DVR."""
    replay = _replay(entry)
    assert replay["verdict"]["dvr"] == (entry["verdict"] == "ok")
    assert entry.get("replay", []) == replay["verdict"]["problems"]
    if entry["kind"] != "dvr":
        assert entry["verdict"] == "fail"


@pytest.mark.parametrize("entry", INDEX, ids=IDS)
def test_replay_verdict_follows_from_its_data(entry: dict[str, Any]) -> None:
    """The committed verdict is what replay.judge derives from the committed DevStack output."""
    replay = _replay(entry)
    assert replay_tool.judge(replay["nodes"]) == replay["verdict"]


def test_replay_judge_needs_every_dvr_piece() -> None:
    """One missing DVR setting, as DevStack would have written it, turns the verdict."""
    nodes = _replay(next(e for e in INDEX if e["id"] == "neutron-dvr-ha-master"))["nodes"]
    assert replay_tool.judge(nodes)["dvr"]
    changes = [
        ("compute1", "l3-agent", "DEFAULT.agent_mode", "legacy"),
        ("compute2", "ovs-agent", "agent.l2_population", False),
        ("controller", "server", "ml2.mechanism_drivers", ["openvswitch"]),
        ("controller", "server", "DEFAULT.router_distributed", False),
        ("controller", "l3-agent", "DEFAULT.agent_mode", "dvr"),
    ]
    for node, process, option, value in changes:
        broken = copy.deepcopy(nodes)
        broken[node]["processes"][process]["values"][option] = value
        assert not replay_tool.judge(broken)["dvr"], (node, option)
    broken = copy.deepcopy(nodes)
    broken["compute1"]["processes"]["ovs-agent"]["refused"] = ["[agent] l2_population: ..."]
    assert "Neutron refuses" in replay_tool.judge(broken)["problems"][0]


@pytest.mark.parametrize("entry", INDEX, ids=IDS)
def test_verdict(entry: dict[str, Any]) -> None:
    errors, warnings = _rules(entry)
    assert ("fail" if errors else "ok") == entry["verdict"]
    assert errors == set(entry["errors"])
    assert warnings == set(entry["warnings"])


def test_no_false_errors_on_working_dvr() -> None:
    """Configurations DevStack turns into a valid DVR deployment get no error at all."""
    working = [e for e in INDEX if _replay(e)["verdict"]["dvr"]]
    assert len(working) >= 10
    assert {e["id"]: _rules(e)[0] for e in working} == {e["id"]: set() for e in working}
