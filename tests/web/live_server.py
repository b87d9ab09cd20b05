"""The real application served by uvicorn on a free loopback port, job worker included."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from tenantfusion.api import create_app
from tenantfusion.config import Settings
from tenantfusion.db import session_factory
from tenantfusion.platform import service as platform_service

ADMIN = ("root", "admin-password-1")


class LiveServer:
    """``with LiveServer(settings) as site:`` serves the app at ``site.url`` in a thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sessions = session_factory(settings)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            create_app(settings, run_worker=True), log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self.api = httpx.Client(base_url=self.url, timeout=120)
        self.admin: dict[str, str] = {}

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        with self.sessions.begin() as db:
            platform_service.create_platform_admin(db=db, username=ADMIN[0], password=ADMIN[1])
        self.admin = self.token(None, *ADMIN)
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.close()
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()

    def token(self, tenant: str | None, username: str, password: str) -> dict[str, str]:
        """API headers of a user (for set-up and checks outside the browser)."""
        body = {"tenant": tenant, "username": username, "password": password}
        r = self.api.post("/v1/auth/tokens", json=body)
        assert r.status_code == 201, r.text
        return {"X-Auth-Token": r.json()["token"]}

    def call(self, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
        """One API call that must succeed; its JSON body (None for 204)."""
        r = self.api.request(method, path, headers=headers, **kw)
        assert r.is_success, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None
