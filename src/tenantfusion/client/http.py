"""A small HTTP client for the API: problem+json errors become one exception.

Exceptions (each is one line for the user; ``exit_code`` is what the process returns)::

    ClientError               exit 1
    ├── ApiError              exit 1  the API answered 4xx/5xx (status, type, title, detail)
    ├── BadResponse           exit 1  the answer was not the API's JSON
    ├── UsageError            exit 2  bad input found after parsing (an unknown -c column)
    ├── Unreachable           exit 3  no connection, or no answer in time
    ├── NotLoggedIn           exit 4  no saved login, or the token was refused (401)
    └── WaitFailed            exit 5  --wait saw a failure or ran out of time
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

#: Longer than the server's longest request (onboarding waits up to 180 s, then creates).
DEFAULT_TIMEOUT = httpx.Timeout(330.0, connect=5.0)
#: Methods sent with an Idempotency-Key (one per call, the same on its retries).
MUTATING = frozenset({"POST", "PUT", "PATCH"})
#: How often a call whose answer was lost (no connection, timeout, 502/503) is re-sent.
RETRIES = 2
RETRY_PAUSE_SECONDS = 1.0


class ClientError(Exception):
    """Anything the CLI reports as one line; ``exit_code`` is what the process returns."""

    exit_code = 1


class ApiError(ClientError):
    """An RFC 9457 problem answer (or any 4xx/5xx)."""

    def __init__(self, *, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.type = _one_line(body.get("type", "about:blank"))
        self.title = _one_line(body.get("title", "error"))
        self.detail = _one_line(body.get("detail", ""))
        super().__init__(f"{self.title}: {self.detail} ({self.type}, HTTP {status})")


class BadResponse(ClientError):
    pass


class UsageError(ClientError):
    exit_code = 2


class Unreachable(ClientError):
    exit_code = 3


class NotLoggedIn(ClientError):
    exit_code = 4


class WaitFailed(ClientError):
    exit_code = 5


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _problem(response: httpx.Response) -> dict[str, Any]:
    """The problem+json body, or a stand-in naming what came instead."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    kind = response.headers.get("content-type", "no content type")
    return {"title": response.reason_phrase, "detail": f"not a problem+json answer ({kind})"}


class Client:
    """The API at ``url``, sending ``token`` as ``X-Auth-Token`` when there is one, or
    signing every request with ``auth`` (an API key)."""

    def __init__(
        self,
        *,
        url: str,
        token: str = "",
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"X-Auth-Token": token} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, auth=auth)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        text: bool = False,
    ) -> Any:
        """The answer's JSON (None for an empty answer; with ``text``, its text). Raises
        ApiError, BadResponse, Unreachable, and NotLoggedIn on a 401 when ``auth`` (the token
        was refused).

        A POST/PUT/PATCH carries a fresh Idempotency-Key; when its answer is lost (no
        connection, a timeout, 502/503) or the server still runs the first attempt, it is
        sent again with the same key, so the action happens once.
        """
        headers = {"Idempotency-Key": str(uuid.uuid4())} if method.upper() in MUTATING else {}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        retries = RETRIES if headers else 0
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                r = self._http.request(method, path, json=json, params=query, headers=headers)
            except httpx.TimeoutException as e:
                if last:
                    raise Unreachable(
                        f"no answer from {self.url} in time ({type(e).__name__})"
                    ) from e
            except httpx.TransportError as e:
                if last:
                    raise Unreachable(f"cannot reach {self.url} ({type(e).__name__})") from e
            else:
                if last or not _worth_retry(r):
                    return self._answer(r, method=method, path=path, auth=auth, text=text)
            time.sleep(RETRY_PAUSE_SECONDS * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns

    def _answer(self, r: httpx.Response, *, method: str, path: str, auth: bool, text: bool) -> Any:
        if r.status_code == 401 and auth:
            raise NotLoggedIn("not logged in or the token expired: run `tenantfusion login`")
        if r.status_code >= 400:
            raise ApiError(status=r.status_code, body=_problem(r))
        if text:
            return r.text
        if r.status_code == 204 or not r.content:
            return None
        try:
            return r.json()
        except ValueError as e:
            raise BadResponse(
                f"{self.url} answered {method} {path} with something other than JSON"
                f" (HTTP {r.status_code}): is it a tenantfusion API?"
            ) from e


def _worth_retry(r: httpx.Response) -> bool:
    """A lost or not-yet-known outcome: the gateway lost the pool, or the first attempt of
    this key still runs."""
    if r.status_code in (502, 503, 504):
        return True
    return r.status_code == 409 and _problem(r).get("type") == "idempotency-in-progress"
