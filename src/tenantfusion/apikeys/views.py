"""HTTP routes of API keys (each user manages their own)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from tenantfusion.apikeys import service
from tenantfusion.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from tenantfusion.deps import AppSettings, CurrentUser, DbSession
from tenantfusion.schemas import Page

router = APIRouter(tags=["api-keys"])


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(
    data: ApiKeyCreate, principal: CurrentUser, db: DbSession, settings: AppSettings
) -> ApiKeyCreated:
    key, secret = service.create(db=db, actor=principal, data=data, settings=settings)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), secret=secret)


@router.get("/api-keys", response_model=Page[ApiKeyRead])
def list_api_keys(principal: CurrentUser, db: DbSession) -> Page[ApiKeyRead]:
    items = service.list_(db=db, actor=principal)
    return Page[ApiKeyRead](items=[ApiKeyRead.model_validate(k) for k in items])


@router.get("/api-keys/{key}", response_model=ApiKeyRead)
def show_api_key(key: str, principal: CurrentUser, db: DbSession) -> ApiKeyRead:
    return ApiKeyRead.model_validate(service.get_or_raise(db=db, actor=principal, ref=key))


@router.delete("/api-keys/{key}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(key: str, principal: CurrentUser, db: DbSession) -> Response:
    service.revoke(
        db=db, actor=principal, key=service.get_or_raise(db=db, actor=principal, ref=key)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
