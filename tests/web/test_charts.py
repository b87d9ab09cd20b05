"""The console's SVG figures: numbers as text, widths in proportion, never past the bar;
line and step charts over time, job timelines, each with its labels in the drawn SVG."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tenantfusion.jobs.models import JobEvent
from tenantfusion.pools.breaker import CLOSED, OPEN
from tenantfusion.pools.drivers.remote import Capacity
from tenantfusion.pools.models import PoolHealthSample
from tenantfusion.quotas.schemas import QuotaUsage
from tenantfusion.web.charts import (
    BAR_WIDTH,
    MARGIN,
    PLOT_WIDTH,
    Bar,
    Series,
    capacity_bars,
    health_series,
    job_timeline,
    quota_bars,
)
from tenantfusion.web.render import templates


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


# ---- quota bars, health history, job timelines: the data and the drawn SVG ---------------


def _svg(macro: str, *args: object) -> str:
    """Draw a chart macro of the console's templates, as a page would."""
    template = templates.env.from_string(
        f'{{% from "_macros.html" import {macro} %}}{{{{ {macro}(*args) }}}}'
    )
    return template.render(args=args)


def test_quota_bars_stack_used_then_reserved_against_the_limit() -> None:
    usage = {
        "servers": QuotaUsage(limit=10, usage=3, reserved=2),
        "vcpus": QuotaUsage(limit=None, usage=4, reserved=0),
    }
    (bar,) = quota_bars(usage, scope="platform")
    assert bar.key == "platform-servers" and bar.taken == 5 and bar.free == 5
    assert (bar.width, bar.reserved_width) == (BAR_WIDTH * 3 // 10, BAR_WIDTH * 2 // 10)
    assert bar.text == "Servers: 3 + 2 reserved of 10 servers used (50%), 5 free"
    over = Bar(key="o", label="O", used=9, reserved=5, total=10, unit="u")
    assert over.width + over.reserved_width == BAR_WIDTH

    svg = _svg("bar_chart", bar)
    assert f'<title id="chart-platform-servers-title">{bar.text}</title>' in svg
    assert 'data-part="used"' in svg and 'data-part="reserved"' in svg
    assert 'fill="url(#dots-platform-servers)"' in svg  # reserved is dotted, not a colour
    assert f"<figcaption>{bar.text}</figcaption>" in svg


def _sample(second: int, latency: int | None, breaker: int, status: str) -> PoolHealthSample:
    at = datetime(2026, 1, 1, 12, 0, second, tzinfo=UTC)
    return PoolHealthSample(at=at, latency_ms=latency, breaker=breaker, status=status)


def test_health_series_show_latency_with_gaps_and_breaker_steps() -> None:
    samples = [
        _sample(0, 120, CLOSED, "ok"),
        _sample(10, None, CLOSED, "unreachable"),
        _sample(20, None, OPEN, "unreachable"),
        _sample(30, 80, CLOSED, "ok"),
    ]
    latency, breaker = health_series(samples)
    # a failed check leaves a gap: two separate moves, no line across it
    assert latency.path.count("M") == 2 and "L" not in latency.path
    assert latency.text == (
        "Health check latency, 4 samples from 12:00:00 to 12:00:30 UTC; latest 80 ms (ok)"
    )
    assert breaker.step and breaker.path.count("H") == 3
    assert breaker.y(OPEN) < breaker.y(CLOSED)  # open is drawn above closed
    assert breaker.text.endswith("latest closed")

    svg = _svg("line_chart", breaker)
    for label in ("closed", "half-open", "open", "12:00:00", "12:00:30 UTC"):
        assert f">{label}</text>" in svg
    assert "<title>12:00:20: open</title>" in svg
    latency_svg = _svg("line_chart", latency)
    assert ">120 ms</text>" in latency_svg and "no answer (unreachable)" in latency_svg
    assert Series(key="e", title="Empty", points=[]).text == "Empty: no samples yet"


def test_job_timeline_spans_queued_started_steps_finished() -> None:
    t0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    events = [
        JobEvent(event="started", step=0, name="", at=t0 + timedelta(seconds=1)),
        JobEvent(event="step", step=1, name="project", at=t0 + timedelta(seconds=2)),
        JobEvent(event="step", step=2, name="user", at=t0 + timedelta(seconds=4)),
        JobEvent(event="succeeded", step=0, name="", at=t0 + timedelta(seconds=5)),
    ]
    spans = job_timeline(created_at=t0, events=events, until=t0 + timedelta(seconds=5))
    assert [s.label for s in spans] == [
        "queued",
        "started",
        "step 1: project",
        "step 2: user",
        "succeeded",
    ]
    assert [(s.start, s.end) for s in spans] == [(0, 1), (1, 2), (2, 4), (4, 5), (5, 5)]
    assert spans[0].x == MARGIN and spans[3].x + spans[3].width == PLOT_WIDTH - MARGIN
    assert spans[-1].width == 2.0  # an instant still shows

    svg = _svg("timeline_chart", spans)
    for label in ("queued", "started", "step 1: project", "succeeded"):
        assert f">{label}</text>" in svg
    assert "<li>step 2: user: at +4.0 s, for 1.0 s</li>" in svg
    assert "step 1: project at +2.0 s" in svg  # the figure's title names every moment
