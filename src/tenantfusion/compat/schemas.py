"""Keystone v3 request bodies the facade accepts (``POST /identity/v3/auth/tokens``).

Lenient like Keystone: unknown members are ignored, so clients' extra fields pass.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SecretStr


class DomainRef(BaseModel):
    id: str | None = None
    name: str | None = None

    def names(self, *, tenant_id: str, tenant_name: str) -> bool:
        """Whether this reference names the tenant (by id or name)."""
        if self.id is not None:
            return self.id == tenant_id
        return self.name in (tenant_name, tenant_id)


class PasswordUser(BaseModel):
    id: str | None = None
    name: str | None = Field(default=None, max_length=64)
    domain: DomainRef | None = None
    password: SecretStr = Field(min_length=1, max_length=256)


class PasswordMethod(BaseModel):
    user: PasswordUser


class TokenMethod(BaseModel):
    id: str = Field(min_length=1, max_length=512)


class ApplicationCredentialMethod(BaseModel):
    """A platform API key: its key id as the credential id, its secret."""

    id: str = Field(min_length=1, max_length=64)
    secret: SecretStr = Field(min_length=1, max_length=256)


class Identity(BaseModel):
    methods: list[str] = Field(min_length=1)
    password: PasswordMethod | None = None
    token: TokenMethod | None = None
    application_credential: ApplicationCredentialMethod | None = None


class ProjectScope(BaseModel):
    id: str | None = None
    name: str | None = None
    domain: DomainRef | None = None


class Scope(BaseModel):
    project: ProjectScope | None = None
    domain: DomainRef | None = None
    system: dict[str, Any] | None = None


class Auth(BaseModel):
    identity: Identity
    scope: Scope | str | None = None  # Keystone also takes the string "unscoped"


class AuthRequest(BaseModel):
    auth: Auth
