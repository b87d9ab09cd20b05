"""The platform's record tag on a facade-created Neutron network: hidden from the tenant's
answers, kept by the pool through the tenant's own tag calls (the steps of Tempest's
TagsExtTest), as the pool's admin sees it."""

from __future__ import annotations

import pytest

from tenantfusion.testbed import connect, ensure_pools
from tests.compat.conftest import Tenant
from tests.conftest import TESTBED_ROOT

pytestmark = pytest.mark.pools


def test_record_tags_are_hidden_and_survive_the_tenants_tag_calls(tenant: Tenant) -> None:
    headers = tenant.headers()
    admin = connect(ensure_pools(count=2, kind="full", root=TESTBED_ROOT)[0])
    with tenant.facade.api() as c:
        made = c.post(
            "/network/east/v2.0/networks", headers=headers, json={"network": {"name": "tagged"}}
        )
        assert made.status_code == 201, made.text
        net = made.json()["network"]

        def held() -> list[str]:
            return sorted(admin.network.get_network(net["id"]).tags)

        (mark,) = held()  # the record's tag, set right after the create
        assert mark.startswith("tf-rec-")
        one = f"/network/east/v2.0/networks/{net['id']}"

        assert c.put(f"{one}/tags/red", headers=headers).status_code == 201
        assert c.get(f"{one}/tags", headers=headers).json()["tags"] == ["red"]
        assert c.get(one, headers=headers).json()["network"]["tags"] == ["red"]
        listed = c.get("/network/east/v2.0/networks", headers=headers, params={"name": "tagged"})
        assert [n["tags"] for n in listed.json()["networks"]] == [["red"]]
        assert c.get(f"{one}/tags/red", headers=headers).status_code == 204
        for call in (c.get, c.put, c.delete):  # one by one, the platform's tag is not there
            assert call(f"{one}/tags/{mark}", headers=headers).status_code == 404
        assert held() == sorted(["red", mark])

        replaced = c.put(f"{one}/tags", headers=headers, json={"tags": ["a", "b", mark]})
        assert replaced.status_code == 200, replaced.text
        assert sorted(replaced.json()["tags"]) == ["a", "b"]
        assert held() == sorted(["a", "b", mark])

        cleared = c.delete(f"{one}/tags", headers=headers)
        assert cleared.status_code == 204, cleared.text
        assert c.get(f"{one}/tags", headers=headers).json()["tags"] == []
        assert held() == [mark]

        # the routing record still finds its network
        listed_v1 = c.get("/v1/networks", headers=headers).json()["items"]
        assert [n["remote_id"] for n in listed_v1 if n["name"] == "tagged"] == [net["id"]]
