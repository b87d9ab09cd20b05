"""Progress of bringing pools up, one row per pool service, each with its elapsed time.

`ensure_pools(report=...)` calls the report with a `Step` whenever a service changes phase
(from its worker threads). `ServiceProgress` shows the steps: on a terminal, live rows
that fit 80 columns; otherwise one plain line per step (for logs and CI)::

    ⠋ pool1        keystone    up                       0:00:04
    ⠋ pool1        nova        starting                 0:00:21
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


@dataclass(frozen=True)
class Step:
    """``group``'s ``name`` (a pool's service, or one step of the installer) is in ``phase``;
    ``done`` when it needs nothing more; ``note``: a line to print once (e.g. a log's path)."""

    group: str
    name: str
    phase: str
    done: bool = False
    note: str = ""


Report = Callable[[Step], None]
#: Widths of a row's text: group, name, phase. With the spinner and the elapsed time a row
#: is 2 + 12 + 1 + 11 + 1 + 24 + 1 + 7 = 59 columns.
WIDTHS = (12, 11, 24)


def quiet(step: Step) -> None:
    """A report that shows nothing."""


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class ServiceProgress:
    """A context manager whose ``report`` shows each step; ``rows`` are declared up front
    (``(group, name)``, shown waiting), others appear with their first step."""

    def __init__(self, console: Console, rows: Sequence[tuple[str, str]] = ()) -> None:
        self.console = console
        self._tasks: dict[tuple[str, str], TaskID] = {}
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self.progress = Progress(
            SpinnerColumn(finished_text="✓"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        for group, name in rows:
            self._row(group, name, "waiting", start=False)

    def _row(self, group: str, name: str, phase: str, *, start: bool) -> TaskID:
        task = self.progress.add_task(self._text(group, name, phase), total=1, start=start)
        self._tasks[(group, name)] = task
        return task

    @staticmethod
    def _text(group: str, name: str, phase: str) -> str:
        cells = (group, name, phase)
        return " ".join(_cut(c, w).ljust(w) for c, w in zip(cells, WIDTHS, strict=True))

    def report(self, step: Step) -> None:
        """Show ``step`` (thread-safe)."""
        with self._lock:
            task = self._tasks.get((step.group, step.name))
            if task is None:
                task = self._row(step.group, step.name, step.phase, start=True)
            self.progress.start_task(task)
            description = self._text(step.group, step.name, step.phase)
            self.progress.update(task, description=description, completed=int(step.done))
            if step.note:
                self.console.print(step.note, markup=False, highlight=False, soft_wrap=True)
            if self.progress.disable:
                seconds = time.monotonic() - self._started
                line = f"{seconds:5.0f} s  {step.group} {step.name}: {step.phase}"
                self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def __enter__(self) -> ServiceProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.progress.stop()
