"""The console's SVG bars: numbers as text, widths in proportion, never past the bar."""

from __future__ import annotations

from tenantfusion.pools.drivers.remote import Capacity
from tenantfusion.web.charts import BAR_WIDTH, Bar, capacity_bars


def test_capacity_bars_show_used_against_total() -> None:
    vcpu, ram, disk = capacity_bars(
        Capacity(
            vcpus=30,
            ram_mb=6144,
            disk_gb=0,
            total_vcpus=40,
            total_ram_mb=8192,
            total_disk_gb=100,
        )
    )
    assert (vcpu.used, vcpu.total, vcpu.percent, vcpu.width) == (10, 40, 25, BAR_WIDTH // 4)
    assert vcpu.text == "vCPU: 10 of 40 vCPU used (25%), 30 free"
    assert ram.text == "RAM: 2,048 of 8,192 MiB used (25%), 6,144 free"
    assert (disk.percent, disk.width, disk.free) == (100, BAR_WIDTH, 0)


def test_a_bar_stays_inside_its_frame() -> None:
    over = Bar(key="x", label="X", used=150, total=100, unit="u")  # overcommitted
    assert over.width == BAR_WIDTH and over.free == 0 and over.percent == 150
    empty = Bar(key="y", label="Y", used=0, total=0, unit="u")  # no inventory
    assert (empty.width, empty.percent, empty.free) == (0, 0, 0)
    sliver = Bar(key="z", label="Z", used=1, total=1_000_000, unit="u")
    assert (sliver.width, sliver.percent) == (1, 0)
