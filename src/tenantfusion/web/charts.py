"""Figures drawn as server-side SVG: what a bar shows, computed once, drawn by a macro.

Every figure carries its numbers as text too (a title for screen readers, a caption for
everyone) and tells parts apart by pattern (hatched = used), never by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenantfusion.pools.drivers.remote import Capacity

#: Width of a bar in SVG user units (the figure scales to its container).
BAR_WIDTH = 400


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: ``used`` out of ``total`` ``unit``."""

    key: str
    label: str
    used: int
    total: int
    unit: str

    @property
    def free(self) -> int:
        return max(self.total - self.used, 0)

    @property
    def percent(self) -> int:
        return round(100 * self.used / self.total) if self.total > 0 else 0

    @property
    def width(self) -> int:
        """The used part's width in user units: at most the bar's, at least 1 when anything
        is used (a sliver still shows)."""
        if self.total <= 0 or self.used <= 0:
            return 0
        return min(BAR_WIDTH, max(1, round(BAR_WIDTH * self.used / self.total)))

    @property
    def text(self) -> str:
        return (
            f"{self.label}: {self.used:,} of {self.total:,} {self.unit} used "
            f"({self.percent}%), {self.free:,} free"
        )


def capacity_bars(capacity: Capacity) -> list[Bar]:
    """vCPU, RAM and disk of a pool (Placement): used against total."""
    parts = (
        ("vcpu", "vCPU", capacity.total_vcpus, capacity.vcpus, "vCPU"),
        ("ram", "RAM", capacity.total_ram_mb, capacity.ram_mb, "MiB"),
        ("disk", "Disk", capacity.total_disk_gb, capacity.disk_gb, "GiB"),
    )
    return [
        Bar(key=key, label=label, used=max(total - free, 0), total=total, unit=unit)
        for key, label, total, free, unit in parts
    ]
