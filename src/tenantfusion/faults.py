"""Crash points: named places where a test can make the process die on the spot.

``crash_point("server.create.after_pool_call")`` does nothing unless the setting
``TENANTFUSION_CRASH_AT`` names that point (comma-separated; ``*`` matches every point,
``prefix.*`` every point under a prefix). Then the process exits at once with
``os._exit(CRASH_EXIT_CODE)``: no ``finally``, no commit, no cleanup, exactly as a kill
-9 would leave it. Production never sets it; the kill-at-every-step tests do.

Every crash point ever reached is listed in :data:`SEEN` (this process), so a test can
check that its list of points is complete.
"""

from __future__ import annotations

import os
import sys

from tenantfusion.config import get_settings

#: Exit code of a process that died at a crash point (tests tell it from a real failure).
CRASH_EXIT_CODE = 86

#: Crash points reached in this process, in order of first visit.
SEEN: list[str] = []


def _armed(point: str, spec: str) -> bool:
    for pattern in (p.strip() for p in spec.split(",")):
        if not pattern:
            continue
        if pattern == "*" or pattern == point:
            return True
        if pattern.endswith(".*") and point.startswith(pattern[:-1]):
            return True
    return False


def crash_point(point: str) -> None:
    """Exit the process here if the crash-at setting names ``point``."""
    if point not in SEEN:
        SEEN.append(point)
    spec = get_settings().crash_at
    if spec and _armed(point, spec):
        sys.stderr.write(f"tenantfusion: crash point {point} reached, exiting\n")
        sys.stderr.flush()
        os._exit(CRASH_EXIT_CODE)
