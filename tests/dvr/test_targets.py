"""Post-config targets resolve as DevStack's merge_config_group evaluates them (targets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantfusion.dvr.targets import ML2_CONF, NEUTRON_CONF, resolve
from tenantfusion.dvr.validator import deployment_from_files, validate

ML2_REL = ML2_CONF.lstrip("/")


@pytest.mark.parametrize(
    ("spec", "kind", "path"),
    [
        ("/$NEUTRON_CORE_PLUGIN_CONF", "absolute", ML2_CONF),
        ("$NEUTRON_CORE_PLUGIN_CONF", "relative", ML2_REL),
        ("/$Q_PLUGIN_CONF_FILE", "absolute", ML2_CONF),
        ("$Q_PLUGIN_CONF_FILE", "relative", ML2_REL),
        ("${Q_PLUGIN_CONF_FILE}", "relative", ML2_REL),
        ("$NEUTRON_CONF", "absolute", NEUTRON_CONF),
        ("/$NEUTRON_CONF", "absolute", NEUTRON_CONF),  # //etc/... is the same file
        ("$Q_L3_CONF_FILE", "absolute", "/etc/neutron/l3_agent.ini"),
        ("/$NEUTRON_L3_CONF", "absolute", "/etc/neutron/l3_agent.ini"),
        ("$Q_DHCP_CONF_FILE", "absolute", "/etc/neutron/dhcp_agent.ini"),
        ("$NEUTRON_DHCP_CONF", "absolute", "/etc/neutron/dhcp_agent.ini"),
        ("$Q_META_CONF_FILE", "absolute", "/etc/neutron/metadata_agent.ini"),
        ("/etc/neutron/plugins/ml2/ml2_conf.ini", "absolute", ML2_CONF),
        ("$MY_ML2", "absolute", ML2_CONF),  # defined in localrc
        ("$NEUTRON_META_CONF", "unknown", ""),  # not defined at the pinned commit
    ],
)
def test_resolve(spec: str, kind: str, path: str) -> None:
    target = resolve(spec, {"MY_ML2": ML2_CONF, "NEUTRON_CONF": "/tmp/ignored.conf"})
    assert (target.kind, target.path) == (kind, path)


def test_readers() -> None:
    assert resolve("/$NEUTRON_CORE_PLUGIN_CONF", {}).readers == ("q-svc", "q-agt")
    assert resolve("$NEUTRON_CORE_PLUGIN_CONF", {}).readers == ()
    assert "q-l3" in resolve("$NEUTRON_CONF", {}).readers


def _retarget(plan: Path, old: str, new: str) -> set[tuple[str, str]]:
    for node in ("net1", "cmp1", "cmp2"):
        conf = plan / node / "local.conf"
        conf.write_text(conf.read_text().replace(old, new))
    findings = validate(deployment=deployment_from_files(paths=[plan]))
    return {(f.rule, f.severity) for f in findings}


@pytest.mark.parametrize(
    "new",
    [
        "[[post-config|/$NEUTRON_CORE_PLUGIN_CONF]]",
        "[[post-config|/etc/neutron/plugins/ml2/ml2_conf.ini]]",
    ],
)
def test_agents_file_aliases_are_clean(plan_dir: Path, new: str) -> None:
    assert _retarget(plan_dir, "[[post-config|/$Q_PLUGIN_CONF_FILE]]", new) == set()


@pytest.mark.parametrize(
    "new", ["[[post-config|$NEUTRON_CORE_PLUGIN_CONF]]", "[[post-config|$NEUTRON_ML2_CONF]]"]
)
def test_unread_or_unknown_file_is_a_warning(plan_dir: Path, new: str) -> None:
    """DevStack sets the DVR agent options itself in DVR mode: ignoring them breaks nothing."""
    assert _retarget(plan_dir, "[[post-config|/$Q_PLUGIN_CONF_FILE]]", new) == {("R22", "warning")}


def test_l3_and_neutron_conf_aliases(plan_dir: Path) -> None:
    assert (
        _retarget(plan_dir, "[[post-config|$Q_L3_CONF_FILE]]", "[[post-config|/$NEUTRON_L3_CONF]]")
        == set()
    )
    assert (
        _retarget(plan_dir, "[[post-config|$NEUTRON_CONF]]", "[[post-config|/$NEUTRON_CONF]]")
        == set()
    )


def test_undefined_target_skips_the_following_files(plan_dir: Path) -> None:
    """merge_config_group 'break's at an empty target: later post-config files are not merged."""
    conf = plan_dir / "cmp1" / "local.conf"
    text = conf.read_text().replace("[[post-config|$NEUTRON_CONF]]", "[[post-config|$UNSET]]")
    conf.write_text(text.replace("agent_mode = dvr\n", "agent_mode = dvr_snat\n"))
    findings = validate(deployment=deployment_from_files(paths=[plan_dir]))
    r22 = [f for f in findings if f.node == "cmp1" and f.rule == "R22"]
    assert r22 and all(f.severity == "warning" for f in r22)
    assert any("never merged" in f.message for f in r22)
    assert not any("agent_mode = dvr_snat" in f.message for f in findings)  # never applied
