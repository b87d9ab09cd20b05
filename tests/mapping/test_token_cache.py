"""Scoped token cache: one Keystone token per mapping per lifetime, re-auth on 401."""

from __future__ import annotations

from typing import Any

import pytest

from tenantfusion.mapping.models import Mapping
from tenantfusion.mapping.sessions import tenant_session
from tenantfusion.metrics import POOL_TOKEN_ISSUES
from tenantfusion.pools.models import Pool
from tests.conftest import Api, admin_conn
from tests.mapping.test_mapping_keystone import register

pytestmark = pytest.mark.keystone
IDENTITY = {"service_type": "identity", "interface": "public"}


def issued(pool: str) -> float:
    return POOL_TOKEN_ISSUES.labels(pool=pool)._value.get()


def test_one_token_per_mapping_and_reauth_on_401(api: Api, keystone_pools: list[Any]) -> None:
    pool = keystone_pools[0]
    register(api, pool, "cached")
    tenant, boss = api.new_tenant()
    m = api.client.put(f"/v1/tenants/{tenant['id']}/mappings/cached", headers=boss).json()
    settings = api.client.app.state.settings

    def session() -> Any:
        with api.sessions() as db:
            return tenant_session(
                mapping=db.get(Mapping, m["id"]), pool=db.get(Pool, m["pool_id"]), settings=settings
            )

    before = issued("cached")
    for _ in range(200):
        r = session().get("/auth/projects", endpoint_filter=IDENTITY)
        assert r.status_code == 200
    assert issued("cached") - before == 1
    # the pool revokes the token: the next call re-authenticates once and succeeds
    token = session().get_token()
    admin_conn(pool).session.delete(
        f"{pool.auth_url}/auth/tokens", headers={"X-Subject-Token": token}
    )
    r = session().get("/auth/projects", endpoint_filter=IDENTITY)
    assert r.status_code == 200
    assert issued("cached") - before == 2
    assert session().get_token() != token
