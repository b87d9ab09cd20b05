"""Mapping views."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from tenantfusion.mapping.models import AuthKind, Mapping, MappingState


class MappingRead(BaseModel):
    id: str
    tenant_id: str
    pool: str
    pool_id: str
    state: MappingState
    reason: str
    last_step: str
    project_name: str
    remote_id: str | None
    remote_user_id: str | None
    is_adopted: bool
    #: How the tenant's session authenticates in the pool.
    auth_kind: AuthKind
    #: The Keystone id of the application credential in use (its secret is never shown).
    credential_id: str | None
    credential_expires_at: datetime | None
    credential_rotated_at: datetime | None
    created_at: datetime
    verified_at: datetime | None
    missing_since: datetime | None

    @classmethod
    def of(cls, mapping: Mapping, *, pool_name: str) -> MappingRead:
        return cls(
            id=mapping.id,
            tenant_id=mapping.tenant_id,
            pool=pool_name,
            pool_id=mapping.pool_id,
            state=mapping.state,
            reason=mapping.reason,
            last_step=mapping.last_step,
            project_name=mapping.project_name,
            remote_id=mapping.project_remote_id,
            remote_user_id=mapping.user_remote_id,
            is_adopted=mapping.is_adopted,
            auth_kind=mapping.auth_kind,
            credential_id=mapping.app_credential_id,
            credential_expires_at=mapping.app_credential_expires_at,
            credential_rotated_at=mapping.app_credential_rotated_at,
            created_at=mapping.created_at,
            verified_at=mapping.verified_at,
            missing_since=mapping.missing_since,
        )
