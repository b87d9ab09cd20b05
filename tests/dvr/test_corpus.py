"""The corpus of real DevStack configurations (tests/dvr/corpus/INDEX.yaml): every verdict pinned.

Each entry's expected verdict comes from what DevStack's and Neutron's code (pinned commits in
the index) do with it; ``ok`` entries are configurations DevStack turns into a valid
deployment of their kind, so the validator must report no error on them (warnings allowed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tenantfusion.dvr.validator import deployment_from_files, validate

CORPUS = Path(__file__).parent / "corpus"
INDEX: list[dict[str, Any]] = yaml.safe_load((CORPUS / "INDEX.yaml").read_text())["entries"]


def _rules(entry: dict[str, Any]) -> tuple[set[str], set[str]]:
    paths = [CORPUS / entry["id"] / name for name in entry["files"]]
    findings = validate(deployment=deployment_from_files(paths=paths))
    errors = {f.rule for f in findings if f.is_error}
    return errors, {f.rule for f in findings if not f.is_error}


def test_index_covers_the_corpus() -> None:
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert on_disk == {e["id"] for e in INDEX}
    for entry in INDEX:
        files = {p.name for p in (CORPUS / entry["id"]).glob("*.local.conf")}
        assert files == set(entry["files"]), entry["id"]
        assert entry["repo"].startswith("openstack/") and len(entry["commit"]) == 40
        assert entry["why"] and entry["verdict"] in ("ok", "fail")
    assert sum(e["kind"] == "dvr" for e in INDEX) >= 20
    assert {e["kind"] for e in INDEX} == {"dvr", "legacy", "ovn"}


@pytest.mark.parametrize("entry", INDEX, ids=[e["id"] for e in INDEX])
def test_verdict(entry: dict[str, Any]) -> None:
    errors, warnings = _rules(entry)
    assert ("fail" if errors else "ok") == entry["verdict"]
    assert errors == set(entry["errors"])
    assert warnings == set(entry["warnings"])


def test_no_false_errors_on_working_dvr() -> None:
    """Configurations DevStack turns into a valid DVR deployment get no error at all."""
    working = [e for e in INDEX if e["kind"] == "dvr" and e["verdict"] == "ok"]
    assert len(working) >= 10
    assert all(not _rules(e)[0] for e in working)
