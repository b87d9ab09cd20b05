"""API key bodies: the secret appears once, in the answer to create."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tenantfusion.platform.schemas import NAME_PATTERN


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    expires_in_days: int | None = Field(
        default=90, ge=1, le=3650, description="Days until the key stops working; null: never"
    )


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    key_id: str
    name: str
    user_id: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    secret: str = Field(
        description="Shown only now. Sign requests with HMAC-SHA256 keyed by its UTF-8 bytes"
    )
