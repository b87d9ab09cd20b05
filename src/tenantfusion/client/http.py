"""A small HTTP client for the API: problem+json errors become one exception."""

from __future__ import annotations

from typing import Any

import httpx


class ClientError(Exception):
    """Anything the CLI reports as one line; ``exit_code`` is what the process returns."""

    exit_code = 1


class ApiError(ClientError):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.type = str(body.get("type", "about:blank"))
        self.title = str(body.get("title", "error"))
        self.detail = str(body.get("detail", ""))
        super().__init__(f"{self.title}: {self.detail} ({self.type}, HTTP {status})")


class NotLoggedIn(ClientError):
    exit_code = 4


class Unreachable(ClientError):
    exit_code = 3


class WaitFailed(ClientError):
    exit_code = 5


class Client:
    def __init__(self, url: str, token: str = "", *, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        headers = {"X-Auth-Token": token} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> Any:
        """The response's JSON (None for 204). Raises ApiError, NotLoggedIn, Unreachable."""
        try:
            r = self._http.request(
                method,
                path,
                json=json,
                params={k: v for k, v in (params or {}).items() if v is not None},
            )
        except httpx.TransportError as e:
            raise Unreachable(f"cannot reach {self.url} ({type(e).__name__})") from e
        if r.status_code == 401 and auth:
            raise NotLoggedIn("not logged in or the token expired: run `tenantfusion login`")
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {"title": r.reason_phrase, "detail": r.text[:200]}
            raise ApiError(r.status_code, body)
        return None if r.status_code == 204 or not r.content else r.json()
