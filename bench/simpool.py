"""POOL SIMULATORS for the scale bench: never OpenStack, never evidence of correctness.

Correctness is proven against real pools (tests marked keystone/full). These stand-ins
exist only to put 10,000 pools, or 100 pools under 500 clients, behind tenantfusion's real
driver interface on a 2-core machine:

- ``SimDriver`` (driver kind ``sim``, in-process): the test suite's in-memory fake driver
  with an index per project, a health check that answers after a fixed latency (or, for a
  pool marked down, hangs until the driver's own timeout and raises ``PoolUnreachable``
  as a real driver does), free memory for the scheduler and a small catalog.
- ``RemoteSimDriver`` (driver kind ``simhttp``): the same driver methods, run in one
  shared simulator process on loopback (``serve_sim``) so that several tenantfusion
  replicas see the same simulated pools. Calls are pickled over HTTP (bench-only, both
  ends are this bench).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import threading
import time
import zlib
from collections.abc import Mapping
from typing import Any

import httpx
from tests.fakes import CLOUDS, FakeCloud, FakeDriver

from tenantfusion.errors import PoolUnreachable
from tenantfusion.pools.drivers import DRIVERS
from tenantfusion.pools.drivers.base import (
    AppCredentialAuth,
    Capabilities,
    PoolAuth,
    PoolDriver,
)
from tenantfusion.pools.drivers.remote import Capacity, CatalogKind, Kind, RemoteObject

SERVICES = ("identity", "compute", "network", "placement")
#: a simulated pool's check answers after this long (a Keystone token + catalog round trip)
CHECK_SECONDS = 0.02


class SimCloud(FakeCloud):
    """One simulated pool's state, with the tenant's objects indexed by project."""

    def __init__(self) -> None:
        super().__init__()
        self.by_project: dict[str, dict[str, RemoteObject]] = {}


def sim_url(name: str, *, down: bool = False) -> str:
    """The auth URL of a simulated pool (``down``: it never answers its health check)."""
    return f"sim://{name}/{'down' if down else 'up'}"


class SimDriver(FakeDriver):
    """POOL SIMULATOR (see the module's docstring)."""

    kind = "sim"

    def __init__(self, auth: PoolAuth, *, pool: str, timeout: float) -> None:
        PoolDriver.__init__(self, auth, pool=pool, timeout=timeout)
        self.cloud = CLOUDS.setdefault(auth.auth_url, SimCloud())

    @property
    def _sim(self) -> SimCloud:
        assert isinstance(self.cloud, SimCloud)
        return self.cloud

    def check(self) -> Capabilities:
        if self.auth.auth_url.endswith("/down"):
            time.sleep(self.timeout)
            raise PoolUnreachable(f"simulated pool {self.pool} did not answer")
        time.sleep(CHECK_SECONDS)
        return Capabilities(services=SERVICES)

    def create_object(
        self, *, session: Any, kind: Kind, project_id: str, spec: Mapping[str, Any]
    ) -> RemoteObject:
        obj = super().create_object(session=session, kind=kind, project_id=project_id, spec=spec)
        with self.cloud.lock:
            self._sim.by_project.setdefault(obj.project_id or "", {})[obj.remote_id] = obj
        return obj

    def list_objects(self, *, session: Any, kind: Kind) -> list[RemoteObject]:
        objects = self._sim.by_project.get(session.project_id, {})
        return [o for o in list(objects.values()) if o.kind == kind]

    def delete_object(self, *, session: Any, kind: Kind, remote_id: str) -> None:
        with self.cloud.lock:
            obj = self.cloud.objects.pop(remote_id, None)
            if obj is not None:
                self._sim.by_project.get(obj.project_id or "", {}).pop(remote_id, None)

    def capacity(self) -> Capacity | None:
        # a stable, different amount per pool
        ram = 4096 + zlib.crc32(self.pool.encode()) % 61440
        return Capacity(vcpus=64, ram_mb=ram, disk_gb=1000)

    def find_catalog(self, *, kind: CatalogKind, ref: str | None = None) -> list[RemoteObject]:
        return []

    def seed(self, *, project_id: str, objects: list[RemoteObject]) -> None:
        """Put objects a bulk load recorded into the simulated pool (bench setup)."""
        with self.cloud.lock:
            mine = self._sim.by_project.setdefault(project_id, {})
            for obj in objects:
                self.cloud.objects[obj.remote_id] = obj
                mine[obj.remote_id] = obj


# --- one simulator process shared by several replicas ---------------------------------

SIM_ENDPOINT = "TF_BENCH_SIM_URL"
_client: httpx.Client | None = None
_client_lock = threading.Lock()


class RemoteSimDriver(SimDriver):
    """POOL SIMULATOR reached over loopback: every call runs in the shared ``serve_sim``
    process, so replicas agree on what each simulated pool holds."""

    kind = "simhttp"

    def _client(self) -> httpx.Client:
        global _client
        if _client is not None:
            return _client
        with _client_lock:  # one client (and TLS context) per process, shared by threads
            if _client is None:
                limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
                _client = httpx.Client(
                    base_url=os.environ[SIM_ENDPOINT], timeout=self.timeout, limits=limits
                )
            return _client

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        body = pickle.dumps((self.auth, self.pool, method, args, kwargs))
        try:
            r = self._client().post("/call", content=body)
        except httpx.TransportError as e:
            raise PoolUnreachable(f"simulator: {type(e).__name__}") from e
        ok, value = pickle.loads(r.content)  # noqa: S301 - our own simulator on loopback
        if not ok:
            raise value
        return value

    def app_credential_session(self, auth: AppCredentialAuth) -> Any:
        # no call: the simulator resolves the credential's project when the session is used
        return PoolAuth(auth.auth_url, f"appcred:{auth.credential_id}", auth.secret)


def _forward(name: str) -> Any:
    def call(self: RemoteSimDriver, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    call.__name__ = name
    return call


for _name in (
    "check",
    "find_project",
    "list_projects",
    "create_project",
    "delete_project",
    "find_user",
    "create_user",
    "set_user_password",
    "delete_user",
    "grant_project_role",
    "list_project_roles",
    "list_application_credentials",
    "create_application_credential",
    "delete_application_credential",
    "authenticate",
    "create_object",
    "find_by_record",
    "get_object",
    "list_objects",
    "delete_object",
    "act",
    "capacity",
    "set_project_quotas",
    "list_project_objects",
    "purge_object",
    "detach_router",
):
    setattr(RemoteSimDriver, _name, _forward(_name))


def register() -> None:
    """Make the simulators known as driver kinds ``sim`` and ``simhttp`` in this process."""
    DRIVERS["sim"] = SimDriver
    DRIVERS["simhttp"] = RemoteSimDriver


def sim_app(latency: float) -> Any:
    """The shared simulator (ASGI): runs a driver method on its in-memory pool state after
    ``latency`` seconds (a pool's round trip)."""
    drivers: dict[tuple[str, str], SimDriver] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if not body:  # a readiness probe
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        auth, pool, method, args, kwargs = pickle.loads(body)  # noqa: S301 - loopback bench
        driver = drivers.get((auth.auth_url, pool))
        if driver is None:
            driver = drivers[(auth.auth_url, pool)] = SimDriver(auth, pool=pool, timeout=10)
        await asyncio.sleep(latency)
        try:
            if method == "check":  # answered here: the in-process check sleeps
                if auth.auth_url.endswith("/down"):
                    raise PoolUnreachable(f"simulated pool {pool} did not answer")
                answer: tuple[bool, Any] = (True, Capabilities(services=SERVICES))
            else:
                session = kwargs.get("session")
                if isinstance(session, PoolAuth) and session.username.startswith("appcred:"):
                    kwargs["session"] = driver.app_credential_session(
                        AppCredentialAuth(
                            auth_url=session.auth_url,
                            credential_id=session.username.removeprefix("appcred:"),
                            secret=session.password,
                        )
                    )
                answer = (True, getattr(driver, method)(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - handed back to the caller
            answer = (False, e)
        payload = pickle.dumps(answer)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": payload})

    return app
