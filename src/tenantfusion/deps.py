"""FastAPI dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.errors import NotAuthenticated
from tenantfusion.platform import auth as auth_service
from tenantfusion.platform.principal import Principal


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


def get_db(request: Request) -> Iterator[Session]:
    """A session per request: committed when the handler returns, rolled back on error."""
    session = get_sessions(request)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
Sessions = Annotated[sessionmaker[Session], Depends(get_sessions)]


def get_token(x_auth_token: Annotated[str | None, Header()] = None) -> str:
    if not x_auth_token:
        raise NotAuthenticated("send a token in X-Auth-Token (POST /v1/auth/tokens)")
    return x_auth_token


def get_principal(
    request: Request, db: DbSession, token: Annotated[str, Depends(get_token)]
) -> Principal:
    principal = auth_service.authenticate(db=db, raw_token=token)
    request.state.principal = principal
    return principal


def get_platform_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require_platform_admin()
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]
PlatformAdmin = Annotated[Principal, Depends(get_platform_admin)]
RawToken = Annotated[str, Depends(get_token)]
