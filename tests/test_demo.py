"""The README's run command, minus serving: `tenantfusion demo` prepares two full pools,
the admin, the demo tenant; the commands it prints then work (a server in one call)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from tenantfusion import demo
from tenantfusion.api import create_app
from tenantfusion.config import get_settings
from tenantfusion.jobs.worker import run_pending
from tests.conftest import TESTBED_ROOT

pytestmark = pytest.mark.pools


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TENANTFUSION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TENANTFUSION_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.delenv("TENANTFUSION_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_demo_prepares_pools_and_tenant_and_its_commands_work(demo_env: Path) -> None:
    creds, tenant_id = demo.prepare(pools=2, kind="full", root=TESTBED_ROOT)
    again, same_tenant = demo.prepare(pools=2, kind="full", root=TESTBED_ROOT)  # a rerun
    assert (again, same_tenant) == (creds, tenant_id)
    assert (demo_env / "demo-credentials.json").stat().st_mode & 0o777 == 0o600
    assert json.loads((demo_env / "demo-credentials.json").read_text()) == creds

    settings = get_settings()
    app = create_app(settings, run_worker=False)
    with TestClient(app) as client:
        login = {"tenant": "demo", "username": "demo-admin", "password": creds["tenant_admin"]}
        token = client.post("/v1/auth/tokens", json=login).json()["token"]
        headers = {"X-Auth-Token": token}
        pools = client.get("/v1/pools", headers=headers).json()["items"]
        assert {p["name"]: p["status"] for p in pools} == {"pool1": "ok", "pool2": "ok"}
        body = {"name": "web-1", "pool": "pool1", "flavor": "m1.nano", "image": "cirros-tiny"}
        created = client.post("/v1/servers", headers=headers, json=body)
        assert created.status_code == 201, created.text
        server = created.json()
        listed = client.get("/v1/servers", headers=headers).json()
        assert [s["id"] for s in listed["items"]] == [server["id"]]
        job = client.delete(f"/v1/servers/{server['id']}", headers=headers).json()
        deadline = time.monotonic() + 120
        while client.get(f"/v1/jobs/{job['id']}", headers=headers).json()["state"] != "succeeded":
            assert time.monotonic() < deadline
            run_pending(sessions=app.state.sessions, settings=settings)
            time.sleep(1)
