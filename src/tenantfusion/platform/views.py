"""HTTP routes of the base layer: tokens, tenants, users."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from tenantfusion.deps import (
    AppSettings,
    CurrentUser,
    DbSession,
    Limit,
    PlatformAdmin,
    RawToken,
    Sessions,
    login_slot,
)
from tenantfusion.jobs.schemas import JobRead
from tenantfusion.mapping.teardown import tenant_delete_flow
from tenantfusion.observe import source_of
from tenantfusion.platform import auth as auth_service
from tenantfusion.platform import service
from tenantfusion.platform.schemas import (
    TenantCreate,
    TenantRead,
    TenantUpdate,
    TokenCreate,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from tenantfusion.schemas import Page

router = APIRouter()


@router.post(
    "/auth/tokens",
    response_model=TokenRead,
    status_code=status.HTTP_201_CREATED,
    tags=["auth"],
    dependencies=[Depends(login_slot)],
)
def create_token(
    data: TokenCreate, request: Request, sessions: Sessions, settings: AppSettings
) -> TokenRead:
    request.state.audit_detail = {"tenant": data.tenant, "username": data.username}
    raw, token, user, tenant = auth_service.login(
        sessions=sessions, data=data, source=source_of(request.scope), settings=settings
    )
    return TokenRead(
        token=raw,
        expires_at=token.expires_at,
        user=UserRead.model_validate(user),
        tenant=TenantRead.model_validate(tenant) if tenant else None,
    )


@router.get("/auth/tokens", response_model=UserRead, tags=["auth"])
def show_token_user(principal: CurrentUser, db: DbSession) -> UserRead:
    return UserRead.model_validate(
        service.get_user_by_id_or_raise(db=db, user_id=principal.user_id)
    )


@router.delete("/auth/tokens", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
def revoke_token(principal: CurrentUser, token: RawToken, db: DbSession) -> Response:
    auth_service.revoke_token(db=db, raw_token=token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/tenants", response_model=TenantRead, status_code=status.HTTP_201_CREATED, tags=["tenants"]
)
def create_tenant(data: TenantCreate, admin: PlatformAdmin, db: DbSession) -> TenantRead:
    return TenantRead.model_validate(service.create_tenant(db=db, actor=admin, data=data))


@router.get("/tenants", response_model=Page[TenantRead], tags=["tenants"])
def list_tenants(
    admin: PlatformAdmin, db: DbSession, limit: int = Limit, marker: str | None = None
) -> Page[TenantRead]:
    items = service.list_tenants(db=db, limit=limit, marker=marker)
    return Page[TenantRead](
        items=[TenantRead.model_validate(t) for t in items],
        next_marker=items[-1].name if len(items) == limit else None,
    )


@router.get("/tenants/{tenant_id}", response_model=TenantRead, tags=["tenants"])
def show_tenant(tenant_id: str, principal: CurrentUser, db: DbSession) -> TenantRead:
    principal.require_tenant_access(tenant_id)
    return TenantRead.model_validate(service.get_tenant_or_raise(db=db, tenant_id=tenant_id))


@router.patch("/tenants/{tenant_id}", response_model=TenantRead, tags=["tenants"])
def update_tenant(
    tenant_id: str, data: TenantUpdate, admin: PlatformAdmin, db: DbSession
) -> TenantRead:
    tenant = service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
    return TenantRead.model_validate(
        service.update_tenant(db=db, actor=admin, tenant=tenant, data=data)
    )


@router.delete(
    "/tenants/{tenant_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={202: {"model": JobRead, "description": "purge=true: the job that deletes it"}},
    tags=["tenants"],
)
def delete_tenant(
    tenant_id: str, admin: PlatformAdmin, db: DbSession, purge: bool = False
) -> Response:
    """204 at once when nothing is left; 409 objects-left naming its mappings and objects;
    with ``purge``, 202 and the job that empties every pool, then deletes the tenant."""
    tenant = service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
    job = tenant_delete_flow(db=db, actor=admin, tenant=tenant, purge=purge)
    if job is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    body = JobRead.model_validate(job).model_dump(mode="json")
    return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/tenants/{tenant_id}/users",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    tags=["users"],
)
def create_user(
    tenant_id: str, data: UserCreate, principal: CurrentUser, db: DbSession
) -> UserRead:
    principal.require_tenant_access(tenant_id, admin=True)
    tenant = service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
    return UserRead.model_validate(
        service.create_user(db=db, actor=principal, tenant=tenant, data=data)
    )


@router.get("/tenants/{tenant_id}/users", response_model=Page[UserRead], tags=["users"])
def list_users(
    tenant_id: str,
    principal: CurrentUser,
    db: DbSession,
    limit: int = Limit,
    marker: str | None = None,
) -> Page[UserRead]:
    principal.require_tenant_access(tenant_id)
    tenant = service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
    items = service.list_users(db=db, tenant=tenant, limit=limit, marker=marker)
    return Page[UserRead](
        items=[UserRead.model_validate(u) for u in items],
        next_marker=items[-1].username if len(items) == limit else None,
    )


@router.get("/tenants/{tenant_id}/users/{user_id}", response_model=UserRead, tags=["users"])
def show_user(tenant_id: str, user_id: str, principal: CurrentUser, db: DbSession) -> UserRead:
    principal.require_tenant_access(tenant_id)
    tenant = service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
    return UserRead.model_validate(service.get_user_or_raise(db=db, tenant=tenant, user_id=user_id))


@router.patch("/tenants/{tenant_id}/users/{user_id}", response_model=UserRead, tags=["users"])
def update_user(
    tenant_id: str, user_id: str, data: UserUpdate, principal: CurrentUser, db: DbSession
) -> UserRead:
    principal.require_tenant_access(tenant_id, admin=True)
    tenant = service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
    user = service.get_user_or_raise(db=db, tenant=tenant, user_id=user_id)
    return UserRead.model_validate(
        service.update_user(db=db, actor=principal, user=user, data=data)
    )


@router.delete(
    "/tenants/{tenant_id}/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["users"]
)
def delete_user(tenant_id: str, user_id: str, principal: CurrentUser, db: DbSession) -> Response:
    principal.require_tenant_access(tenant_id, admin=True)
    tenant = service.get_tenant_or_raise(db=db, tenant_id=tenant_id)
    service.delete_user(
        db=db,
        actor=principal,
        user=service.get_user_or_raise(db=db, tenant=tenant, user_id=user_id),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
