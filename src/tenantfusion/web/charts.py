"""Figures drawn as server-side SVG: what a bar shows, computed once, drawn by a macro.

Every figure carries its numbers as text too (a title for screen readers, a caption for
everyone) and tells parts apart by pattern (hatched = used), never by colour alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tenantfusion.jobs.models import JobEvent
from tenantfusion.pools.breaker import CLOSED, HALF_OPEN, OPEN
from tenantfusion.pools.drivers.remote import Capacity
from tenantfusion.pools.models import PoolHealthSample
from tenantfusion.quotas.schemas import QuotaUsage

#: Width of a bar in SVG user units (the figure scales to its container).
BAR_WIDTH = 400


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: ``used`` (and ``reserved``, drawn after it) out of ``total``."""

    key: str
    label: str
    used: int
    total: int
    unit: str
    reserved: int = 0

    @property
    def taken(self) -> int:
        return self.used + self.reserved

    @property
    def free(self) -> int:
        return max(self.total - self.taken, 0)

    @property
    def percent(self) -> int:
        return round(100 * self.taken / self.total) if self.total > 0 else 0

    @staticmethod
    def _scale(amount: int, total: int) -> int:
        if total <= 0 or amount <= 0:
            return 0
        return min(BAR_WIDTH, max(1, round(BAR_WIDTH * amount / total)))

    @property
    def width(self) -> int:
        """The used part's width in user units: at most the bar's, at least 1 when anything
        is used (a sliver still shows)."""
        return self._scale(self.used, self.total)

    @property
    def reserved_width(self) -> int:
        """The reserved part's width (it starts where the used part ends, stays inside)."""
        return min(self._scale(self.reserved, self.total), BAR_WIDTH - self.width)

    @property
    def text(self) -> str:
        reserved = f" + {self.reserved:,} reserved" if self.reserved else ""
        return (
            f"{self.label}: {self.used:,}{reserved} of {self.total:,} {self.unit} used "
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


#: A quota's resource → (label, unit).
QUOTA_LABELS: dict[str, tuple[str, str]] = {
    "servers": ("Servers", "servers"),
    "vcpus": ("vCPU", "vCPU"),
    "ram_mb": ("RAM", "MiB"),
    "volumes": ("Volumes", "volumes"),
    "volume_gb": ("Volume storage", "GiB"),
    "networks": ("Networks", "networks"),
    "routers": ("Routers", "routers"),
    "floating_ips": ("Floating IPs", "floating IPs"),
}


def quota_bars(usage: Mapping[str, QuotaUsage], *, scope: str) -> list[Bar]:
    """Used and reserved against the limit, for each resource of ``usage`` that has one
    (``scope`` keeps the figures' ids apart: a pool's name, or ``platform``)."""
    return [
        Bar(
            key=f"{scope}-{resource}",
            label=QUOTA_LABELS[resource][0],
            used=u.usage,
            reserved=u.reserved,
            total=u.limit,
            unit=QUOTA_LABELS[resource][1],
        )
        for resource, u in usage.items()
        if u.limit is not None and resource in QUOTA_LABELS
    ]


#: Size of a line chart in SVG user units (the plot area sits inside the margins).
PLOT_WIDTH, PLOT_HEIGHT, MARGIN = 600, 160, 72
#: Height of one row of a timeline (one span per row, Gantt-style).
ROW_HEIGHT = 18


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float | None  # None: no value (drawn as a gap, said in the text)
    label: str  # how the value reads as text


@dataclass(frozen=True)
class Series:
    """A line (``step``: a step chart, for states) over time, with its axis labels."""

    key: str
    title: str
    points: Sequence[Point]
    step: bool = False
    ticks: Mapping[float, str] = field(default_factory=dict)  # y value → its label
    top: float = 0.0  # the y axis' upper end (0: the largest value)

    left, right = MARGIN, PLOT_WIDTH - MARGIN

    @property
    def high(self) -> float:
        values = [p.value for p in self.points if p.value is not None]
        return self.top or max([*values, *self.ticks, 1.0])

    def x(self, index: int) -> float:
        span = max(len(self.points) - 1, 1)
        return round(MARGIN + (PLOT_WIDTH - 2 * MARGIN) * index / span, 1)

    def y(self, value: float) -> float:
        return round(PLOT_HEIGHT - 24 - (PLOT_HEIGHT - 40) * min(value, self.high) / self.high, 1)

    @property
    def path(self) -> str:
        """The SVG path: a gap where a value is missing; a step chart moves flat, then up."""
        parts: list[str] = []
        previous: tuple[float, float] | None = None
        for i, p in enumerate(self.points):
            if p.value is None:
                previous = None
                continue
            x, y = self.x(i), self.y(p.value)
            if previous is None:
                parts.append(f"M{x},{y}")
            elif self.step:
                parts.append(f"H{x} V{y}")
            else:
                parts.append(f"L{x},{y}")
            previous = (x, y)
        return " ".join(parts)

    @property
    def text(self) -> str:
        if not self.points:
            return f"{self.title}: no samples yet"
        first, last = self.points[0], self.points[-1]
        return (
            f"{self.title}, {len(self.points)} samples from {first.at:%H:%M:%S} to "
            f"{last.at:%H:%M:%S} UTC; latest {last.label}"
        )


BREAKER_TICKS = {CLOSED: "closed", HALF_OPEN: "half-open", OPEN: "open"}


def health_series(samples: Sequence[PoolHealthSample]) -> list[Series]:
    """A pool's check latency (a gap where the check failed) and its breaker's state."""
    latency = [
        Point(
            at=s.at,
            value=s.latency_ms,
            label=f"{s.latency_ms:,} ms ({s.status})"
            if s.latency_ms is not None
            else f"no answer ({s.status})",
        )
        for s in samples
    ]
    high = max([s.latency_ms or 0 for s in samples] + [1])
    ticks = {0.0: "0 ms", float(high): f"{high:,} ms"}
    breaker = [Point(at=s.at, value=s.breaker, label=BREAKER_TICKS[s.breaker]) for s in samples]
    return [
        Series(key="latency", title="Health check latency", points=latency, ticks=ticks),
        Series(
            key="breaker",
            title="Circuit breaker",
            points=breaker,
            step=True,
            ticks={float(k): v for k, v in BREAKER_TICKS.items()},
            top=float(OPEN),
        ),
    ]


@dataclass(frozen=True)
class Span:
    """One stretch of a timeline: from ``start`` to ``end`` seconds after its origin."""

    label: str
    start: float
    end: float
    x: float
    width: float

    @property
    def label_after(self) -> bool:
        """Whether its label fits right of the bar (else it goes left of it)."""
        return self.x + self.width < PLOT_WIDTH / 2


def timeline(events: Sequence[tuple[str, datetime]], *, until: datetime) -> list[Span]:
    """Consecutive events as spans across PLOT_WIDTH: each lasts until the next one (the
    last until ``until``); a span is at least 2 units wide so it still shows."""
    if not events:
        return []
    origin = events[0][1]
    ends = [at for _, at in events[1:]] + [max(until, events[-1][1])]
    total = max((ends[-1] - origin).total_seconds(), 1e-3)
    inner = PLOT_WIDTH - 2 * MARGIN
    spans = []
    for (label, at), end in zip(events, ends, strict=True):
        start_s, end_s = (at - origin).total_seconds(), (end - origin).total_seconds()
        x = MARGIN + inner * start_s / total
        spans.append(
            Span(
                label=label,
                start=round(start_s, 3),
                end=round(end_s, 3),
                x=round(x, 1),
                width=round(max(inner * (end_s - start_s) / total, 2.0), 1),
            )
        )
    return spans


def job_timeline(
    *, created_at: datetime, events: Sequence[JobEvent], until: datetime
) -> list[Span]:
    """A job's life: queued (its creation), then each event (attempts, steps, the end)."""
    named = [("queued", created_at)] + [
        (f"step {e.step}: {e.name}" if e.event == "step" else e.event, e.at) for e in events
    ]
    return timeline(named, until=until)
