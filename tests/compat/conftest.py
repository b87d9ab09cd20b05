"""A served tenantfusion (its own process, SQLite) over the test bed's two full pools,
registered as regions ``east`` and ``west``, for clients nobody here wrote."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tenantfusion.testbed import ensure_pools
from tests.conftest import ADMIN_PASSWORD, TEST_KEY, TESTBED_ROOT, pool_body
from tests.live import EXE, free_port, serve_env, serving

CIDRS = {"east": "10.78.1.0/24", "west": "10.78.2.0/24"}
OPENSTACK = EXE.parent / "openstack"


@dataclass
class Facade:
    url: str
    admin: dict[str, str]
    home: Path

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, trust_env=False)


@dataclass
class Tenant:
    facade: Facade
    id: str
    name: str
    username: str
    password: str

    def headers(self) -> dict[str, str]:
        with self.facade.api() as c:
            r = c.post(
                "/v1/auth/tokens",
                json={"tenant": self.name, "username": self.username, "password": self.password},
            )
        assert r.status_code == 201, r.text
        return {"X-Auth-Token": r.json()["token"]}

    def env(self, region: str) -> dict[str, str]:
        """An environment for the unmodified `openstack` CLI against the facade (no
        clouds.yaml, no OS_* of the caller)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        return {
            **base,
            "HOME": str(self.facade.home),
            "OS_AUTH_URL": f"{self.facade.url}/identity/v3",
            "OS_IDENTITY_API_VERSION": "3",
            "OS_USERNAME": self.username,
            "OS_PASSWORD": self.password,
            "OS_USER_DOMAIN_NAME": self.name,
            "OS_PROJECT_NAME": self.name,
            "OS_PROJECT_DOMAIN_NAME": self.name,
            "OS_REGION_NAME": region,
            "OS_INTERFACE": "public",
        }

    def clouds_yaml(self, path: Path) -> Path:
        """Write a clouds.yaml with this tenant as cloud ``tf`` (both regions) to ``path``."""
        auth = {
            "auth_url": f"{self.facade.url}/identity/v3",
            "username": self.username,
            "password": self.password,
            "user_domain_name": self.name,
            "project_name": self.name,
            "project_domain_name": self.name,
        }
        cloud = {"auth": auth, "identity_api_version": 3, "regions": list(CIDRS)}
        path.write_text(yaml.safe_dump({"clouds": {"tf": cloud}}))
        return path

    def openstack(self, region: str, *args: str, check: bool = True) -> Any:
        """Run `openstack <args> -f json` in ``region``; its parsed output."""
        out = subprocess.run(
            [str(OPENSTACK), *args, "-f", "json"],
            env=self.env(region),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert out.returncode == 0, f"openstack {' '.join(args)}: {out.stderr[-3000:]}"
            return json.loads(out.stdout) if out.stdout.strip() else None
        return out

    def run(self, region: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run an `openstack` command that prints nothing (delete, add)."""
        out = subprocess.run(
            [str(OPENSTACK), *args],
            env=self.env(region),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, f"openstack {' '.join(args)}: {out.stderr[-3000:]}"
        return out


@contextmanager
def served_facade(data: Path, **extra: str) -> Iterator[Facade]:
    """A served tenantfusion (SQLite in ``data``) with the two full pools as regions
    ``east`` and ``west``; ``extra``: more of its environment (``TENANTFUSION_*``)."""
    infos = ensure_pools(count=2, kind="full", root=TESTBED_ROOT)
    env = serve_env(
        database_url=f"sqlite:///{data / 'tf.sqlite'}",
        data_dir=data,
        key=TEST_KEY,
        TENANTFUSION_POOL_TIMEOUT_SECONDS="30",
        TENANTFUSION_OPERATION_DEADLINE_SECONDS="60",
        TENANTFUSION_RECONCILE_INTERVAL_SECONDS="3600",
        **extra,
    )
    subprocess.run(
        [str(EXE), "admin", "create", "--username", "root", "--password-stdin"],
        input=ADMIN_PASSWORD,
        text=True,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    with serving(env, port=free_port(), log=data / "serve.log") as url:
        with httpx.Client(base_url=url, timeout=120, trust_env=False) as c:
            r = c.post("/v1/auth/tokens", json={"username": "root", "password": ADMIN_PASSWORD})
            assert r.status_code == 201, r.text
            admin = {"X-Auth-Token": r.json()["token"]}
            for (name, cidr), info in zip(CIDRS.items(), infos, strict=True):
                body = {**pool_body(info, name), "default_network_cidr": cidr}
                r = c.post("/v1/pools", headers=admin, json=body)
                assert r.status_code == 201, r.text
        yield Facade(url=url, admin=admin, home=data)


@pytest.fixture(scope="session")
def facade(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Facade]:
    with served_facade(tmp_path_factory.mktemp("facade")) as made:
        yield made


def _purge(facade: Facade, tenant_id: str) -> None:
    with facade.api() as c:
        r = c.delete(f"/v1/tenants/{tenant_id}", params={"purge": "true"}, headers=facade.admin)
        if r.status_code != 202:
            assert r.status_code == 204, r.text
            return
        job = r.json()["id"]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            state = c.get(f"/v1/jobs/{job}", headers=facade.admin).json()["state"]
            if state in ("succeeded", "failed"):
                assert state == "succeeded"
                return
            time.sleep(2)
        raise AssertionError("tenant purge did not finish")


@contextmanager
def new_tenant(facade: Facade) -> Iterator[Tenant]:
    """A brand-new tenant of ``facade`` (no project in any pool yet); purged from both
    pools after."""
    name = f"os-{uuid.uuid4().hex[:8]}"
    with facade.api() as c:
        r = c.post(
            "/v1/tenants",
            headers=facade.admin,
            json={"name": name, "admin": {"username": "boss", "password": "boss-password"}},
        )
        assert r.status_code == 201, r.text
    made = Tenant(facade, r.json()["id"], name, "boss", "boss-password")
    try:
        yield made
    finally:
        _purge(facade, made.id)


@pytest.fixture
def tenant(facade: Facade) -> Iterator[Tenant]:
    """A brand-new tenant (no project in any pool yet); purged from both pools after."""
    with new_tenant(facade) as made:
        yield made
