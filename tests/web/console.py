"""A console user for tests: a client with its own cookie jar that fills in CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient
from starlette.types import ASGIApp

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(html)
    assert found, "page has no form with a CSRF token"
    return found.group(1)


class Console:
    """One browser-like session on the console (no redirects followed unless asked)."""

    def __init__(self, app: ASGIApp) -> None:
        self.client = TestClient(app, follow_redirects=False)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.client.get(url, **kwargs)
        return response

    def post(self, url: str, data: dict[str, str], *, via: str) -> httpx.Response:
        """Submit a form found on page ``via`` (its CSRF token added)."""
        token = csrf_of(self.get(via).text)
        response: httpx.Response = self.client.post(url, data={**data, "csrf_token": token})
        return response

    def login(self, tenant: str | None, username: str, password: str) -> httpx.Response:
        return self.post(
            "/console/login",
            {"tenant": tenant or "", "username": username, "password": password},
            via="/console/login",
        )
