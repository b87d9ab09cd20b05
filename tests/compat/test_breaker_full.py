"""A pool whose circuit breaker is open answers 503 at once through the facade, in
OpenStack's error shape, without touching the pool; the other region still works."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantfusion.jobs.worker import run_pending
from tenantfusion.pools import breaker
from tenantfusion.testbed import ensure_pools
from tests.conftest import TESTBED_ROOT, Api, _truncate, make_api, make_settings, pool_body

pytestmark = pytest.mark.pools


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(make_settings(sqlite_url, tmp_path, pool_timeout_seconds=30.0))
    _truncate(sqlite_url)
    breaker.reset()


def test_open_breaker_is_503_fast(api: Api) -> None:
    infos = ensure_pools(count=2, kind="full", root=TESTBED_ROOT)
    for name, info in zip(("brk-a", "brk-b"), infos, strict=True):
        r = api.client.post("/v1/pools", headers=api.admin, json=pool_body(info, name))
        assert r.status_code == 201, r.text
    tenant, headers = api.new_tenant()
    ok = api.client.get("/compute/brk-b/v2.1/flavors", headers=headers)  # onboards in brk-b
    assert ok.status_code == 200, ok.text
    for _ in range(breaker.FAILURES_TO_OPEN):
        breaker.after_call("brk-a", failed=True)
    started = time.monotonic()
    down = api.client.get("/compute/brk-a/v2.1/servers", headers=headers)
    assert time.monotonic() - started < 1.0
    assert down.status_code == 503, down.text
    assert "circuit open" in down.json()["error"]["message"]
    assert api.client.get("/compute/brk-b/v2.1/servers", headers=headers).status_code == 200
    # nothing of the tenant's is left behind by this test's onboarding
    breaker.reset()
    gone = api.client.delete(
        f"/v1/tenants/{tenant['id']}", params={"purge": "true"}, headers=api.admin
    )
    assert gone.status_code in (202, 204), gone.text
    run_pending(sessions=api.sessions, settings=api.client.app.state.settings)
    assert api.client.get(f"/v1/tenants/{tenant['id']}", headers=api.admin).status_code == 404
