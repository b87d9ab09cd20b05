"""Request and response bodies of platform quotas."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Limit = Annotated[int | None, Field(default=None, ge=0, le=2**31 - 1)]


class QuotaLimits(BaseModel):
    """A tenant's limits, platform-wide or in one pool: an omitted or null resource has
    none (the PUT replaces every limit of its scope)."""

    model_config = ConfigDict(extra="forbid")

    servers: Limit
    vcpus: Limit
    ram_mb: Limit
    volumes: Limit
    volume_gb: Limit
    networks: Limit
    routers: Limit
    floating_ips: Limit


class QuotaUsage(BaseModel):
    """One resource: its limit (null: none), what active objects use, and what creates in
    flight have reserved (counted against the limit too)."""

    limit: int | None
    usage: int
    reserved: int


class QuotaDrift(BaseModel):
    """A count the records give that differs from what the pool's project really holds."""

    pool: str
    resource: str
    records: int
    pool_count: int


class QuotaRead(BaseModel):
    tenant_id: str
    #: platform-wide, every resource
    resources: dict[str, QuotaUsage]
    #: per pool where the tenant has a pool limit or objects
    pools: dict[str, dict[str, QuotaUsage]]
    #: with ``?reconcile=true``: counts that differ between the records and the pools,
    #: and pools that could not be asked (``unreachable``)
    drift: list[QuotaDrift] | None = None
    unreachable: list[str] | None = None
    #: after a PUT: pool → ``ok``, ``skipped`` (the pool has no such quotas) or the error
    pushed: dict[str, str] | None = None
