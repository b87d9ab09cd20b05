"""The demo's and `testbed up`'s progress: one row per pool service with its elapsed time,
within 80 columns on a terminal, one plain line per step otherwise; the installer's log
named once; and the steps `ensure_pools` reports for pools already running."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from tenantfusion.testbed import ensure_pools
from tenantfusion.testbed.progress import ServiceProgress, Step
from tenantfusion.testbed.registry import KIND_SERVICES
from tests.conftest import TESTBED_ROOT

ROWS = [(f"pool{i}", name) for i in (1, 2) for name in KIND_SERVICES["full"]]
ROWS += [("tenantfusion", "database"), ("tenantfusion", "registry")]
NOTE = "installing OpenStack into /a/long/path/var/testbed/venv-openstack; its log: " * 2 + "x"
ELAPSED = re.compile(r" (\d+:\d\d:\d\d|-:--:--)$")


def _steps(shown: ServiceProgress) -> None:
    shown.report(Step("openstack", "install", "installing", note=NOTE))
    shown.report(Step("openstack", "install", "installed", done=True))
    shown.report(Step("pool1", "keystone", "registering the catalog"))
    shown.report(Step("pool1", "keystone", "up", done=True))
    shown.report(Step("pool1", "placement", "set up; waiting"))
    shown.report(Step("pool2", "nova", "a phase longer than its column lets it be"))


@pytest.mark.parametrize("width", [80, 60])
def test_rows_fit_the_terminal_with_their_elapsed_time(width: int) -> None:
    screen = io.StringIO()
    console = Console(file=screen, width=width, force_terminal=True, color_system=None)
    with ServiceProgress(console, rows=ROWS) as shown:
        _steps(shown)
        frame = Console(file=io.StringIO(), width=width, record=True, color_system=None)
        frame.print(shown.progress.get_renderable())
    lines = frame.export_text().splitlines()
    assert len(lines) == len(ROWS) + 1  # the installer's row came with its first step
    for line in lines:
        assert len(line) <= width and ELAPSED.search(line), line
    by_row = {tuple(line.split()[1:3]): line for line in lines}
    assert by_row["pool1", "keystone"].startswith("✓") and " up " in by_row["pool1", "keystone"]
    assert by_row["pool2", "glance"].endswith("-:--:--") and "waiting" in by_row["pool2", "glance"]
    assert re.search(r"0:00:0\d$", by_row["pool1", "placement"])
    assert "a phase longer than its…" in by_row["pool2", "nova"]
    # the note (the installer's log) is printed once, above the rows, never cut
    assert screen.getvalue().count(NOTE) == 1


def test_not_a_terminal_prints_one_plain_line_per_step() -> None:
    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=False)
    with ServiceProgress(console, rows=ROWS) as shown:
        _steps(shown)
    lines = screen.getvalue().splitlines()
    assert lines[0] == NOTE
    assert re.fullmatch(r" +\d+ s  openstack install: installing", lines[1])
    assert lines[4].endswith("pool1 keystone: up") and len(lines) == 7
    assert "\x1b" not in screen.getvalue()


@pytest.mark.keystone
def test_pools_already_running_are_reported_running() -> None:
    steps: list[Step] = []
    pools = ensure_pools(count=2, kind="keystone", root=TESTBED_ROOT, report=steps.append)
    expected = [
        Step(pool.name, name, "running", done=True)
        for pool in pools
        for name in KIND_SERVICES[pool.kind]
    ]
    assert sorted(steps, key=repr) == sorted(expected, key=repr)
