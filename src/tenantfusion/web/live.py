"""When a page is still moving: its live parts refresh until everything has settled."""

from __future__ import annotations

from collections.abc import Iterable

from tenantfusion.jobs.models import JobState
from tenantfusion.jobs.schemas import JobRead
from tenantfusion.mapping.models import MappingState
from tenantfusion.mapping.schemas import MappingRead
from tenantfusion.resources.schemas import ResourceRead

#: Pool statuses on the way to another (Nova's transitional server states and Neutron's).
MOVING_STATUSES = frozenset(
    {"BUILD", "REBUILD", "REBOOT", "HARD_REBOOT", "RESIZE", "MIGRATING", "PENDING_CREATE"}
    # Cinder's volume statuses on their way somewhere
    | {"CREATING", "ATTACHING", "DETACHING", "RESERVED", "DELETING", "EXTENDING"}
)
MOVING_JOBS = frozenset({JobState.queued, JobState.running, JobState.paused})
MOVING_MAPPINGS = frozenset(
    {MappingState.pending, MappingState.provisioning, MappingState.deleting}
)


def is_moving(
    *,
    jobs: Iterable[JobRead] = (),
    mappings: Iterable[MappingRead] = (),
    resources: Iterable[ResourceRead] = (),
) -> bool:
    """Whether any job, mapping or pool object shown is still changing (a server with a
    task under way, e.g. powering on, too)."""
    return (
        any(j.state in MOVING_JOBS for j in jobs)
        or any(m.state in MOVING_MAPPINGS for m in mappings)
        or any(
            r.status.upper() in MOVING_STATUSES or getattr(r, "task_state", None) for r in resources
        )
    )
