"""Request and response bodies of tenant resources."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tenantfusion.schemas import Page


class RouterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    pool: str | None = Field(default=None, description="Pool name; omitted: the scheduler picks")


class RouterRead(BaseModel):
    id: str
    name: str
    pool: str
    remote_id: str
    status: str
    is_distributed: bool | None


class ResourcePage(Page[RouterRead]):
    #: Each pool's outcome: ``ok`` or ``unavailable`` (the list is partial then).
    pools: dict[str, str] = Field(default_factory=dict)
