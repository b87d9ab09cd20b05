"""Console sessions: the platform token in a cookie, and CSRF tokens tied to that session.

The session cookie holds the platform token itself (HttpOnly, SameSite=Strict, Secure over
https); logging out revokes the token. Every POST form carries ``csrf_token``, an HMAC of
the session (before login: of a random pre-login nonce in its own cookie) under a key
derived from the installation's secret key; a POST without the right one is rejected.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from tenantfusion.config import Settings
from tenantfusion.crypto import keys_from_settings
from tenantfusion.deps import AppSettings, principal_from_token
from tenantfusion.errors import NotAuthenticated
from tenantfusion.platform.principal import Principal

COOKIE_PATH = "/console"
SESSION_COOKIE = "tf_session"
PRELOGIN_COOKIE = "tf_prelogin"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """No valid console session: the console answers with a redirect to its login page."""


class CsrfRejected(Exception):
    """A form arrived without the CSRF token of the caller's session."""


def _csrf_key(settings: Settings) -> bytes:
    newest = keys_from_settings(settings)[0]
    return hashlib.sha256(b"tenantfusion console csrf\0" + newest.encode()).digest()


def csrf_token(*, settings: Settings, session: str) -> str:
    """The CSRF token of forms served to ``session`` (a session or pre-login cookie)."""
    return hmac.new(_csrf_key(settings), session.encode(), hashlib.sha256).hexdigest()


def session_of(request: Request) -> str | None:
    """What CSRF tokens are tied to: the session cookie, else the pre-login nonce."""
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRELOGIN_COOKIE)


def _is_secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """Set a console cookie: HttpOnly, SameSite=Strict, Secure over https, path /console."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_is_secure(request),
    )


def drop_cookie(response: Response, request: Request, name: str) -> None:
    """Tell the browser to forget a console cookie (same attributes as when set)."""
    response.delete_cookie(
        name, path=COOKIE_PATH, httponly=True, samesite="strict", secure=_is_secure(request)
    )


def prelogin_nonce(request: Request) -> str:
    """This browser's pre-login nonce, or a new one (give it with ``keep_prelogin``)."""
    return request.cookies.get(PRELOGIN_COOKIE) or secrets.token_urlsafe(32)


def keep_prelogin(response: Response, request: Request, nonce: str) -> None:
    """Set the pre-login cookie unless the browser already holds this nonce."""
    if request.cookies.get(PRELOGIN_COOKIE) != nonce:
        set_cookie(response, request, PRELOGIN_COOKIE, nonce, max_age=3600)


def start_session(response: Response, request: Request, *, token: str, max_age: int) -> None:
    """Store a fresh platform token as the session (and drop the pre-login nonce)."""
    set_cookie(response, request, SESSION_COOKIE, token, max_age=max_age)
    drop_cookie(response, request, PRELOGIN_COOKIE)


def end_session(response: Response, request: Request) -> None:
    """Forget the session cookie in the browser (the caller revokes the token)."""
    drop_cookie(response, request, SESSION_COOKIE)


async def verify_csrf(request: Request, settings: AppSettings) -> None:
    """Router dependency: every unsafe request must carry its session's CSRF token.

    Raises CsrfRejected.
    """
    if request.method not in UNSAFE_METHODS:
        return
    session = session_of(request)
    submitted = (await request.form()).get(CSRF_FIELD)
    if (
        not session
        or not isinstance(submitted, str)
        or not hmac.compare_digest(submitted, csrf_token(settings=settings, session=session))
    ):
        raise CsrfRejected


async def console_user(request: Request) -> Principal:
    """The user of the session cookie. Raises LoginRequired without a valid session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    try:
        return await principal_from_token(request, token)
    except NotAuthenticated as e:
        raise LoginRequired from e


async def console_admin(user: Annotated[Principal, Depends(console_user)]) -> Principal:
    """A platform admin's session. Raises Forbidden for anyone else."""
    user.require_platform_admin()
    return user


def session_token(request: Request) -> str | None:
    """The raw platform token of the session (to revoke it at logout)."""
    return request.cookies.get(SESSION_COOKIE)


ConsoleUser = Annotated[Principal, Depends(console_user)]
ConsoleAdmin = Annotated[Principal, Depends(console_admin)]
