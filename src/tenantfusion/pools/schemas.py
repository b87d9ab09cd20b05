"""Request and response bodies of the pool registry."""

from __future__ import annotations

from datetime import datetime
from ipaddress import IPv4Network

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr

from tenantfusion.pools.models import PoolStatus
from tenantfusion.schemas import Patch


class PoolAuthIn(BaseModel):
    """An admin credential of the pool's Keystone (stored encrypted, never returned)."""

    model_config = ConfigDict(extra="forbid")

    auth_url: AnyHttpUrl
    username: str = Field(min_length=1, max_length=255)
    password: SecretStr = Field(min_length=1, max_length=1024)
    project_name: str = Field(default="admin", min_length=1, max_length=255)
    user_domain_name: str = Field(default="Default", max_length=255)
    project_domain_name: str = Field(default="Default", max_length=255)


class PoolCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    driver: str = "openstack"
    auth: PoolAuthIn
    region_name: str | None = Field(default=None, max_length=64)
    project_domain: str | None = Field(
        default=None, max_length=64, description="Keystone domain for tenant projects"
    )
    labels: dict[str, str] = Field(default_factory=dict)
    default_network_cidr: IPv4Network | None = Field(
        default=None,
        description="Give each tenant a default network/subnet/router here on first use",
    )


class PoolUpdate(Patch):
    nullable = frozenset({"region_name", "default_network_cidr"})

    auth: PoolAuthIn | None = None
    region_name: str | None = Field(default=None, max_length=64)
    labels: dict[str, str] | None = None
    is_enabled: bool | None = None
    default_network_cidr: IPv4Network | None = None


class PoolRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    driver: str
    auth_url: str
    region_name: str | None
    project_domain: str
    status: PoolStatus
    status_reason: str
    services: list[str]
    features: list[str]
    labels: dict[str, str]
    is_enabled: bool
    default_network_cidr: str | None
    checked_at: datetime | None
    created_at: datetime

    @property
    def capabilities(self) -> list[str]:
        return [*self.services, *self.features]


class PoolView(BaseModel):
    """What a tenant user sees of a pool: no Keystone address, no health detail."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    driver: str
    region_name: str | None
    status: PoolStatus
    services: list[str]
    features: list[str]
    labels: dict[str, str]
    is_enabled: bool
    created_at: datetime


def pool_view(pool: object, *, full: bool) -> PoolRead | PoolView:
    """The admin's full view of ``pool`` or the tenant's reduced one."""
    return PoolRead.model_validate(pool) if full else PoolView.model_validate(pool)
