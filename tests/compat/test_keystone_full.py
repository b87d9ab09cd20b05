"""The facade's Keystone v3 over HTTP, and openstacksdk with a clouds.yaml walking both
regions: tokens are the platform's own (validated, revoked and refused like /v1's),
errors come in OpenStack's JSON shape."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import openstack
import pytest
import yaml

from tests.compat.conftest import Tenant

pytestmark = pytest.mark.pools


def password_auth(tenant: Tenant, password: str, **scope: object) -> dict[str, object]:
    user = {"name": tenant.username, "domain": {"name": tenant.name}, "password": password}
    auth: dict[str, object] = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if scope:
        auth["scope"] = scope
    return {"auth": auth}


def test_tokens_are_platform_tokens(tenant: Tenant) -> None:
    with tenant.facade.api() as c:
        assert c.get("/identity").status_code == 300
        assert c.get("/identity/v3").json()["version"]["id"].startswith("v3")
        project = {"project": {"name": tenant.name, "domain": {"name": tenant.name}}}
        r = c.post(
            "/identity/v3/auth/tokens", json=password_auth(tenant, "boss-password", **project)
        )
        assert r.status_code == 201, r.text
        token = r.headers["X-Subject-Token"]
        body = r.json()["token"]
        assert body["project"] == {
            "id": tenant.id,
            "name": tenant.name,
            "domain": {"id": tenant.id, "name": tenant.name},
        }
        regions = {e["region"] for s in body["catalog"] for e in s["endpoints"]}
        assert regions == {"east", "west"}
        types = {s["type"] for s in body["catalog"]}
        assert {"identity", "compute", "network", "image"} <= types

        me = {"X-Auth-Token": token}
        assert c.get("/v1/auth/tokens", headers=me).json()["username"] == "boss"  # shared
        shown = c.get("/identity/v3/auth/tokens", headers={**me, "X-Subject-Token": token})
        assert shown.status_code == 200 and shown.json()["token"]["user"]["name"] == "boss"
        check = c.head("/identity/v3/auth/tokens", headers={**me, "X-Subject-Token": token})
        assert check.status_code == 200
        (proj,) = c.get("/identity/v3/auth/projects", headers=me).json()["projects"]
        assert proj["id"] == tenant.id
        assert c.get("/identity/v3/auth/catalog", headers=me).json()["catalog"]

        # wrong password, other project, unknown token: OpenStack's error shape
        bad = c.post("/identity/v3/auth/tokens", json=password_auth(tenant, "nope-password"))
        assert bad.status_code == 401 and bad.json()["error"]["code"] == 401
        other = {"project": {"name": "someone-else", "domain": {"name": tenant.name}}}
        wrong = c.post(
            "/identity/v3/auth/tokens", json=password_auth(tenant, "boss-password", **other)
        )
        assert wrong.status_code == 401
        unknown = c.get("/identity/v3/auth/tokens", headers={**me, "X-Subject-Token": "tfp_x"})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == 404

        # revoked through /v1: dead in the facade and its proxies as well
        assert c.delete("/v1/auth/tokens", headers=me).status_code == 204
        assert c.get("/compute/east/v2.1/servers", headers=me).status_code == 401
        again = c.post("/identity/v3/auth/tokens", json=password_auth(tenant, "boss-password"))
        fresh = {"X-Auth-Token": again.headers["X-Subject-Token"]}
        gone = c.get("/identity/v3/auth/tokens", headers={**fresh, "X-Subject-Token": token})
        assert gone.status_code == 404
        # revoked through the facade: dead in /v1
        kill = c.delete(
            "/identity/v3/auth/tokens", headers={**fresh, "X-Subject-Token": fresh["X-Auth-Token"]}
        )
        assert kill.status_code == 204
        assert c.get("/v1/auth/tokens", headers=fresh).status_code == 401


def test_unknown_region_and_admin_paths(tenant: Tenant) -> None:
    me = tenant.headers()
    with tenant.facade.api() as c:
        missing = c.get("/compute/nowhere/v2.1/servers", headers=me)
        assert missing.status_code == 404 and "nowhere" in missing.json()["error"]["message"]
        for path in ("/compute/east/v2.1/os-hypervisors", "/network/west/v2.0/agents"):
            refused = c.get(path, headers=me)
            assert refused.status_code == 403, path
            assert refused.json()["error"]["title"] == "Forbidden"
        wide = c.get("/compute/east/v2.1/servers", params={"all_tenants": "1"}, headers=me)
        assert wide.status_code == 403
        assert c.get("/compute/east/v2.1/servers").status_code == 401


def test_openstacksdk_walks_both_regions(tenant: Tenant, tmp_path: Path) -> None:
    path = tenant.clouds_yaml(tmp_path / "clouds.yaml")
    config = openstack.config.OpenStackConfig(config_files=[str(path)], load_envvars=False)
    seen: dict[str, set[str]] = {}
    for region in ("east", "west"):
        conn = openstack.connection.Connection(
            config=config.get_one_cloud(cloud="tf", region_name=region)
        )
        net = conn.network.create_network(name=f"sdk-{region}")
        seen[region] = {n.id for n in conn.network.networks()}
        assert net.id in seen[region]
        assert any(f.name == "m1.nano" for f in conn.compute.flavors())
        assert any(i.name == "cirros-tiny" for i in conn.image.images())
        assert list(conn.compute.servers()) == []
        conn.network.delete_network(net)
        conn.close()
    assert not seen["east"] & seen["west"]  # two clouds, two projects


def test_an_api_key_is_an_application_credential(tenant: Tenant, tmp_path: Path) -> None:
    """openstacksdk's ``v3applicationcredential`` auth with a platform API key (its key id
    and secret) works in a region; a wrong secret and a revoked key are refused."""
    with tenant.facade.api() as c:
        r = c.post("/v1/api-keys", headers=tenant.headers(), json={"name": "sdk"})
        assert r.status_code == 201, r.text
        key = r.json()
    cloud = {
        "auth_type": "v3applicationcredential",
        "auth": {
            "auth_url": f"{tenant.facade.url}/identity/v3",
            "application_credential_id": key["key_id"],
            "application_credential_secret": key["secret"],
        },
        "identity_api_version": 3,
        "region_name": "east",
    }
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": {"key": cloud}}))
    config = openstack.config.OpenStackConfig(config_files=[str(path)], load_envvars=False)
    conn = openstack.connection.Connection(config=config.get_one_cloud(cloud="key"))
    net = conn.network.create_network(name="by-key")
    assert net.id in {n.id for n in conn.network.networks()}
    conn.network.delete_network(net)
    conn.close()

    def ask(secret: str) -> httpx.Response:
        method = {"id": key["key_id"], "secret": secret}
        body = {
            "auth": {
                "identity": {
                    "methods": ["application_credential"],
                    "application_credential": method,
                }
            }
        }
        with tenant.facade.api() as c:
            return c.post("/identity/v3/auth/tokens", json=body)

    good = ask(key["secret"])
    assert good.status_code == 201 and good.json()["token"]["project"]["id"] == tenant.id
    assert good.json()["token"]["methods"] == ["application_credential"]
    wrong = ask(key["secret"] + "x")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == 401
    with tenant.facade.api() as c:
        gone = c.delete(f"/v1/api-keys/{key['key_id']}", headers=tenant.headers())
        assert gone.status_code in (200, 204), gone.text
    time.sleep(1.1)  # a resolved key is cached for a second per process
    assert ask(key["secret"]).status_code == 401
