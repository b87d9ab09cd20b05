"""Audit views."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seq: int | None
    at: datetime
    actor_id: str | None
    actor_name: str
    tenant_id: str | None
    action: str
    target_kind: str
    target_id: str | None
    result: str
    error_type: str | None
    request_id: str | None
    source: str | None
    detail: dict[str, Any]
    prev_hash: str | None
    hash: str | None
