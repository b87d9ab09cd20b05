"""Job views."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from tenantfusion.jobs.models import JobState


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    state: JobState
    tenant_id: str | None
    step: int
    total_steps: int
    step_name: str
    attempts: int
    max_attempts: int
    pool_id: str | None
    run_after: datetime
    deadline_at: datetime | None
    error: str
    result: dict[str, Any]
    created_at: datetime
    updated_at: datetime
