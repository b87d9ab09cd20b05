"""Inventory model: the example is accepted; invalid input gets one error per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantfusion.dvr.errors import InventoryError
from tenantfusion.dvr.inventory import load_inventory, parse_inventory

from .conftest import EXAMPLE

SHARED_EXAMPLE = Path("/work/shared/examples/dvr-inventory.yaml")


def test_example_is_accepted() -> None:
    inv, lines = load_inventory(path=EXAMPLE)
    assert [n.name for n in inv.nodes] == ["net1", "cmp1", "cmp2"]
    assert [n.mode for n in inv.nodes] == ["dvr_snat", "dvr", "dvr_no_external"]
    assert inv.passwords.env_names()["ADMIN_PASSWORD"] == "DEVSTACK_ADMIN_PASSWORD"
    assert lines["nodes[1].tunnel_ip"] == 26


@pytest.mark.skipif(not SHARED_EXAMPLE.exists(), reason="shared/ example not beside the repo")
def test_shared_example_is_identical_and_accepted() -> None:
    assert SHARED_EXAMPLE.read_text() == EXAMPLE.read_text()
    load_inventory(path=SHARED_EXAMPLE)


BAD = """\
passwords: {admin: hunter2, database: env:DB, rabbit: env:RB}
network:
  fixed_range: 10.0.0.0/33
  floating_range: 203.0.113.0/24
  floating_pool: {start: 203.0.113.10, end: nope}
  public_gateway: 203.0.113.1
  tenant_network_type: gre
nodes:
  - name: net1
    role: storage
    management_ip: 198.51.100.10
    tunnel_ip: 198.51.100.999
    colour: blue
"""


def test_one_error_per_problem_naming_the_field() -> None:
    with pytest.raises(InventoryError) as exc:
        parse_inventory(text=BAD, path="bad.yaml")
    problems = exc.value.problems
    fields = [p.split(" ")[0].rstrip(":") for p in problems]
    assert fields == [
        "passwords.admin",
        "passwords.service",
        "network.tenant_network_type",
        "network.fixed_range",
        "network.floating_pool.end",
        "nodes[0].role",
        "nodes[0].tunnel_ip",
        "nodes[0].colour",
    ]
    assert "env:NAME" in problems[0] and "hunter2" not in " ".join(problems)
    assert "(line 9)" not in problems[5] and "(line 10)" in problems[5]
    assert "GRE" in problems[2] or "vxlan" in problems[2]


def test_duplicate_node_names_rejected() -> None:
    text = EXAMPLE.read_text().replace("name: cmp2", "name: cmp1")
    with pytest.raises(InventoryError, match="used twice"):
        parse_inventory(text=text)


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "nodes: [\n"])
def test_not_a_mapping_or_broken_yaml(text: str) -> None:
    with pytest.raises(InventoryError):
        parse_inventory(text=text)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="cannot read"):
        load_inventory(path=tmp_path / "missing.yaml")
