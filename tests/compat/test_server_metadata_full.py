"""The record mark of a facade-created server (``tf_record`` metadata, and the record tag
when the create's microversion takes tags) through the unmodified `openstack` CLI: no
answer shows it, the client's own metadata calls (set, unset, a rebuild and a replace of
all metadata, deleting all of it) leave it on the server in Nova, as the pool's admin
sees it, and it cannot be read, set or removed by key."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tenantfusion.testbed import connect, ensure_pools
from tests.compat.conftest import OPENSTACK, Tenant
from tests.conftest import TESTBED_ROOT

pytestmark = pytest.mark.pools

REGION = "east"


def _unmarked(output: Any) -> None:
    text = json.dumps(output)
    assert "tf_record" not in text and "tf-rec-" not in text, text


def test_the_cli_never_sees_the_mark_and_never_removes_it(tenant: Tenant) -> None:
    admin = connect(ensure_pools(count=2, kind="full", root=TESTBED_ROOT)[0])
    boot = ("--flavor", "m1.nano", "--image", "cirros-tiny", "--wait")
    made = tenant.openstack(REGION, "server", "create", *boot, "--property", "a=1", "mvm")
    _unmarked(made)
    server_id = made["id"]
    (record,) = [s for s in v1_servers(tenant) if s["remote_id"] == server_id]
    mark = {"tf_record": f"tenantfusion {record['id']}"}

    def held() -> dict[str, str]:
        return dict(admin.compute.get_server(server_id).metadata)

    def shown() -> dict[str, str]:
        out = tenant.openstack(REGION, "server", "show", server_id)
        _unmarked(out)
        return dict(out["properties"])

    assert held() == {"a": "1", **mark}
    assert shown() == {"a": "1"}

    tenant.run(REGION, "server", "set", "--property", "b=2", server_id)
    assert shown() == {"a": "1", "b": "2"}
    tenant.run(REGION, "server", "unset", "--property", "a", server_id)
    assert shown() == {"b": "2"}
    listed = tenant.openstack(REGION, "server", "list", "--long")
    _unmarked(listed)
    assert [s["Properties"] for s in listed if s["ID"] == server_id] == [{"b": "2"}]
    assert held() == {"b": "2", **mark}

    # a rebuild naming properties replaces all metadata in Nova: the mark stays
    rebuilt = tenant.run(
        REGION,
        "server",
        "rebuild",
        "--image",
        "cirros-tiny",
        "--property",
        "c=3",
        "--wait",
        server_id,
    )  # prints its progress, then a table
    _unmarked(rebuilt.stdout)
    assert shown() == {"c": "3"}
    assert held() == {"c": "3", **mark}

    # by key the mark is not there; the CLI cannot remove it
    gone = subprocess.run(
        [str(OPENSTACK), "server", "unset", "--property", "tf_record", server_id],
        env=tenant.env(REGION),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert gone.returncode != 0 and "404" in gone.stderr, gone.stderr
    assert held() == {"c": "3", **mark}

    # the compute API itself: replace all, delete all, and one by one
    one = f"/compute/{REGION}/v2.1/servers/{server_id}"
    headers = tenant.headers()
    with tenant.facade.api() as c:
        put = c.put(f"{one}/metadata", headers=headers, json={"metadata": {"d": "4", **spoof()}})
        assert put.status_code == 200, put.text
        assert put.json() == {"metadata": {"d": "4"}}
        assert held() == {"d": "4", **mark}
        merged = c.post(f"{one}/metadata", headers=headers, json={"metadata": spoof()})
        assert merged.json() == {"metadata": {"d": "4"}}
        cleared = c.put(f"{one}/metadata", headers=headers, json={"metadata": {}})
        assert cleared.json() == {"metadata": {}}
        assert c.get(f"{one}/metadata", headers=headers).json() == {"metadata": {}}
        assert held() == mark
        key = f"{one}/metadata/tf_record"
        assert c.get(key, headers=headers).status_code == 404
        assert c.delete(key, headers=headers).status_code == 404
        put_one = c.put(key, headers=headers, json={"meta": spoof()})
        assert put_one.status_code == 404, put_one.text
        assert held() == mark
        late = {**headers, "OpenStack-API-Version": "compute 2.90"}
        answer = c.get(f"/compute/{REGION}/v2.1/servers/detail", headers=late)
        # how long the facade waited for Nova (Server-Timing), a part of the whole
        waited = re.fullmatch(r"pool;dur=([0-9.]+)", answer.headers["server-timing"])
        assert waited and 0 < float(waited.group(1)) < answer.elapsed.total_seconds() * 1000
        detail = answer.json()
        _unmarked(detail)
        assert [s["metadata"] for s in detail["servers"] if s["id"] == server_id] == [{}]
    tenant.run(REGION, "server", "delete", "--wait", server_id)


def spoof() -> dict[str, str]:
    return {"tf_record": "tenantfusion someone-else"}


def v1_servers(tenant: Tenant) -> list[dict[str, Any]]:
    with tenant.facade.api() as c:
        r = c.get("/v1/servers", headers=tenant.headers(), params={"pool": REGION})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])
