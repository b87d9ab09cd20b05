"""Shared fixtures for the DVR toolkit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantfusion.dvr import planner
from tenantfusion.dvr.inventory import Inventory, load_inventory

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = FIXTURES / "dvr-inventory.yaml"


@pytest.fixture(scope="session")
def inventory() -> Inventory:
    """The example inventory (a copy of shared/examples/dvr-inventory.yaml)."""
    return load_inventory(path=EXAMPLE)[0]


@pytest.fixture()
def plan_dir(tmp_path: Path, inventory: Inventory) -> Path:
    """The planner's output for the example inventory, in a fresh directory."""
    out = tmp_path / "plan"
    planner.write_plan(inventory=inventory, outdir=out)
    return out
