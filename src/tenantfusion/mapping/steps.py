"""Onboarding and deprovisioning as explicit step lists.

Every step takes one StepContext, is idempotent (finds before it creates, treats
"already exists" as done) and records remote ids on the mapping row; the flow commits
after each step, so a crashed ensure resumes at the first unfinished step.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.crypto import decrypt_json, encrypt_json
from tenantfusion.db import release
from tenantfusion.errors import (
    ExcessPrivilege,
    PoolConflict,
    PoolError,
    PoolUnreachable,
    StepFailed,
)
from tenantfusion.mapping import credentials
from tenantfusion.mapping.credentials import MEMBER_ROLE
from tenantfusion.mapping.models import Mapping
from tenantfusion.pools.drivers.base import PoolDriver, RemoteProject
from tenantfusion.quotas import service as quota_service

log = structlog.get_logger(__name__)


def tenant_tag(tenant_id: str) -> str:
    return f"tf-tenant:{tenant_id}"


def installation_tag(installation_id: str) -> str:
    return f"tf-install:{installation_id}"


def remote_name(*, installation_id: str, tenant_id: str) -> str:
    """Stable name of a tenant's project and user in a pool."""
    return f"tf-{installation_id[:8]}-{tenant_id}"


@dataclass
class StepContext:
    mapping: Mapping
    driver: PoolDriver
    domain: str
    tenant_name: str
    installation_id: str
    settings: Settings
    #: The session the flow commits through (steps that touch rows only flush).
    db: Session
    #: Called after a step changed the row, before anything irreversible happens next.
    save: Callable[[], None]
    #: Make a new application credential even if the current one is fresh (rotate).
    rotate: bool = False

    @property
    def tags(self) -> tuple[str, ...]:
        return (tenant_tag(self.mapping.tenant_id), installation_tag(self.installation_id))


def owned(project: RemoteProject, ctx: StepContext) -> bool:
    """Whether the project carries this tenant's and this installation's tags."""
    return set(ctx.tags) <= set(project.tags)


def _adopt_or_refuse(project: RemoteProject, ctx: StepContext) -> None:
    if not owned(project, ctx):
        raise StepFailed(
            f"project {project.name} exists in pool {ctx.driver.pool} without this tenant's tags "
            f"{list(ctx.tags)}: refusing to adopt it",
            pool=ctx.driver.pool,
        )
    if ctx.mapping.project_remote_id != project.remote_id:
        ctx.mapping.is_adopted = ctx.mapping.project_remote_id is None
        ctx.mapping.project_remote_id = project.remote_id


def ensure_project(ctx: StepContext) -> None:
    """Find the tenant's tagged project by its stable name, adopt it, or create it."""
    m = ctx.mapping
    found = ctx.driver.find_project(name=m.project_name, domain=ctx.domain)
    if found is None:
        try:
            found = ctx.driver.create_project(
                name=m.project_name,
                domain=ctx.domain,
                tags=ctx.tags,
                description=f"tenantfusion tenant {ctx.tenant_name}",
            )
            m.project_remote_id = found.remote_id
            return
        except PoolConflict:
            found = ctx.driver.find_project(name=m.project_name, domain=ctx.domain)
            if found is None:
                raise
    _adopt_or_refuse(found, ctx)


def ensure_service_user(ctx: StepContext) -> None:
    """Find or create the tenant's pool user; its password is stored before the user exists."""
    m = ctx.mapping
    assert m.project_remote_id
    if m.credential is None:
        m.credential = encrypt_json({"password": secrets.token_urlsafe(32)}, settings=ctx.settings)
        ctx.save()
    password = decrypt_json(m.credential, settings=ctx.settings)["password"]
    found = ctx.driver.find_user(name=m.user_name, domain=ctx.domain)
    if found is None:
        try:
            found = ctx.driver.create_user(
                name=m.user_name,
                domain=ctx.domain,
                password=password,
                default_project_id=m.project_remote_id,
            )
            m.user_remote_id = found.remote_id
            credentials.user_replaced(m)
            return
        except PoolConflict:
            found = ctx.driver.find_user(name=m.user_name, domain=ctx.domain)
            if found is None:
                raise
    if found.remote_id != m.user_remote_id:
        # Adopted (earlier crash or restored database): make the stored password the real one.
        ctx.driver.set_user_password(found.remote_id, password=password)
        m.user_remote_id = found.remote_id
        credentials.user_replaced(m)


def grant_member_role(ctx: StepContext) -> None:
    """Grant the member role on the tenant's project (granting twice is harmless)."""
    m = ctx.mapping
    assert m.project_remote_id and m.user_remote_id
    ctx.driver.grant_project_role(
        user_id=m.user_remote_id, project_id=m.project_remote_id, role=MEMBER_ROLE
    )


def verify_least_privilege(ctx: StepContext) -> None:
    """Refuse a pool user holding any role beyond member (and the roles member implies)
    on its own project, counting effective assignments: through groups, inherited from
    domains or parent projects, on any other scope."""
    m = ctx.mapping
    assert m.project_remote_id and m.user_remote_id
    roles = ctx.driver.list_project_roles(user_id=m.user_remote_id)
    allowed = {MEMBER_ROLE, *ctx.driver.implied_roles(role=MEMBER_ROLE)}
    extra = {
        scope: sorted(set(names) - allowed) if scope == m.project_remote_id else names
        for scope, names in roles.items()
        if scope != m.project_remote_id or set(names) - allowed
    }
    if extra or MEMBER_ROLE not in roles.get(m.project_remote_id, []):
        raise ExcessPrivilege(
            f"pool user {m.user_name} in pool {ctx.driver.pool} effectively holds {extra} "
            f"beyond {MEMBER_ROLE} on project {m.project_remote_id}"
            if extra
            else f"pool user {m.user_name} in pool {ctx.driver.pool} lacks {MEMBER_ROLE} on "
            f"project {m.project_remote_id}",
            pool=ctx.driver.pool,
            roles=roles,
        )


def ensure_application_credential(ctx: StepContext) -> None:
    """Give the pool user an application credential restricted to member on its project,
    unless its current one is fresh (and no rotation was asked)."""
    if ctx.rotate or credentials.is_due(ctx.mapping, settings=ctx.settings):
        credentials.rotate(
            mapping=ctx.mapping,
            driver=ctx.driver,
            domain=ctx.domain,
            settings=ctx.settings,
            save=ctx.save,
        )


def push_quotas(ctx: StepContext) -> None:
    """Set the project's quotas in the pool to the tenant's platform limits there, when it
    has any (the transaction ends first). A pool that refuses quotas keeps its own; one
    that does not answer fails the step (resumed here)."""
    m = ctx.mapping
    assert m.project_remote_id
    bounds = quota_service.limits(db=ctx.db, tenant_id=m.tenant_id)
    release(ctx.db)
    if not bounds:
        return
    try:
        ctx.driver.set_project_quotas(
            project_id=m.project_remote_id, limits=quota_service.pool_limits(bounds, m.pool_id)
        )
    except PoolUnreachable:
        raise
    except PoolError as e:
        log.warning("mapping.quotas_not_pushed", pool=ctx.driver.pool, reason=e.detail)


Step = Callable[[StepContext], None]

ENSURE_STEPS: list[Step] = [
    ensure_project,
    ensure_service_user,
    grant_member_role,
    verify_least_privilege,
    ensure_application_credential,
    push_quotas,
]

#: Rotation (and the upgrade of a password-only mapping): check the user, then re-issue.
ROTATE_STEPS: list[Step] = [verify_least_privilege, ensure_application_credential]


def delete_service_user(ctx: StepContext) -> None:
    """Delete the tenant's pool user (found by name if its id was never recorded)."""
    m = ctx.mapping
    remote_id = m.user_remote_id
    if remote_id is None:
        found = ctx.driver.find_user(name=m.user_name, domain=ctx.domain)
        remote_id = found.remote_id if found else None
    if remote_id:
        ctx.driver.delete_user(remote_id, ignore_missing=True)
    m.user_remote_id = None


def delete_project(ctx: StepContext) -> None:
    """Delete the tenant's project, only if it carries this tenant's tags."""
    m = ctx.mapping
    found = ctx.driver.find_project(name=m.project_name, domain=ctx.domain)
    if found is not None and owned(found, ctx):
        ctx.driver.delete_project(found.remote_id, ignore_missing=True)
    m.project_remote_id = None


DEPROVISION_STEPS: list[Step] = [delete_service_user, delete_project]
