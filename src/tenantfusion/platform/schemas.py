"""Request and response bodies of the base layer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tenantfusion.platform.models import Role
from tenantfusion.schemas import Patch

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
Name = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
OptionalName = Field(default=None, min_length=1, max_length=64, pattern=NAME_PATTERN)
Password = Field(min_length=8, max_length=256)
OptionalPassword = Field(default=None, min_length=8, max_length=256)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str | None = Field(default=None, description="Tenant name or id; omit for admins")
    username: str = Field(min_length=1, max_length=64)
    password: SecretStr = Field(min_length=1, max_length=256)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Name
    password: SecretStr = Password
    role: Role = Role.member


class UserUpdate(Patch):
    password: SecretStr | None = OptionalPassword
    role: Role | None = None
    is_enabled: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str | None
    username: str
    role: Role
    is_enabled: bool
    created_at: datetime


class TenantAdmin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Name
    password: SecretStr = Password


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Name
    description: str = Field(default="", max_length=255)
    admin: TenantAdmin = Field(description="The tenant's first tenant_admin")


class TenantUpdate(Patch):
    name: str | None = OptionalName
    description: str | None = Field(default=None, max_length=255)
    is_enabled: bool | None = None


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    is_enabled: bool
    created_at: datetime


class TokenRead(BaseModel):
    token: str
    expires_at: datetime
    user: UserRead
    tenant: TenantRead | None
