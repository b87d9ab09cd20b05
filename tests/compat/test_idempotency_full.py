"""The v1 API's Idempotency-Key holds through the facade too: a create retried with the
same key answers the first answer again and leaves one object in the pool (read as the
pool's admin); the same key with another body is refused."""

from __future__ import annotations

import pytest

from tenantfusion.testbed import connect, ensure_pools
from tests.compat.conftest import Tenant
from tests.conftest import TESTBED_ROOT

pytestmark = pytest.mark.pools


def test_a_retried_facade_create_makes_one_network(tenant: Tenant) -> None:
    headers = {**tenant.headers(), "Idempotency-Key": "facade-net-1"}
    body = {"network": {"name": "once"}}
    with tenant.facade.api() as c:
        first = c.post("/network/east/v2.0/networks", headers=headers, json=body)
        assert first.status_code == 201, first.text
        again = c.post("/network/east/v2.0/networks", headers=headers, json=body)
        assert again.status_code == 201, again.text
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json()["network"]["id"] == first.json()["network"]["id"]
        other = c.post(
            "/network/east/v2.0/networks", headers=headers, json={"network": {"name": "twice"}}
        )
        assert other.status_code == 400, other.text  # OpenStack's status for a bad request
        assert "Idempotency-Key was sent with another request" in other.json()["error"]["message"]
        listed = c.get("/v1/networks", headers=tenant.headers()).json()["items"]
    made = first.json()["network"]
    assert [n["remote_id"] for n in listed if n["name"] == "once"] == [made["id"]]
    pool = ensure_pools(count=2, kind="full", root=TESTBED_ROOT)[0]
    held = connect(pool).network.networks(name="once", project_id=made["project_id"])
    assert [n.id for n in held] == [made["id"]]
