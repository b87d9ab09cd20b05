"""What a tenant sees of a real pool: no Keystone address, no health detail."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, pool_body

pytestmark = pytest.mark.keystone
HIDDEN = {"auth_url", "status_reason", "project_domain", "checked_at", "default_network_cidr"}


def test_tenant_pool_view_hides_admin_fields(sqlite_api: Api, keystone_pools: list[Any]) -> None:
    api = sqlite_api
    body = pool_body(keystone_pools[0], "seen", labels={"zone": "a"})
    assert api.client.post("/v1/pools", headers=api.admin, json=body).status_code == 201
    _, boss = api.new_tenant()
    for path in ("/v1/pools", "/v1/pools/seen"):
        admin_view = api.client.get(path, headers=api.admin).json()
        tenant_view = api.client.get(path, headers=boss).json()
        admin_pool = admin_view["items"][0] if "items" in admin_view else admin_view
        tenant_pool = tenant_view["items"][0] if "items" in tenant_view else tenant_view
        assert admin_pool["auth_url"] == keystone_pools[0].auth_url
        assert not HIDDEN & set(tenant_pool) and tenant_pool["labels"] == {"zone": "a"}
        assert keystone_pools[0].auth_url not in str(tenant_view)
