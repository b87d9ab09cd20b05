"""A facade server create whose answer is lost is adopted by the reconciler.

West's cloud is registered once more as pool ``lossy``, its Nova reached through a
loopback proxy (Keystone's catalog rewritten to it) that loses the answer to one
``POST /v2.1/servers``: Nova creates the server, tenantfusion never sees the answer and
answers 503, and the routing record stays ``creating``. The create carried the record's
mark (``tf_record`` metadata; at 2.52 and later the ``tf-rec-<id>`` tag too), so the
reconciler finds the server and activates the record with its id: the server is routed
(in ``GET /v1/servers``, counted in the quota). Before the mark, the record was dropped
and the server stayed in Nova unrouted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tenantfusion.db import utcnow
from tenantfusion.jobs.worker import run_pending
from tenantfusion.pools import breaker
from tenantfusion.resources.models import RecordState, RoutingRecord
from tenantfusion.testbed import connect, ensure_pools
from tenantfusion.testbed.seed import IMAGE_NAME
from tests.conftest import TESTBED_ROOT, Api, _truncate, make_api, make_settings, pool_body
from tests.delay_proxy import DelayProxy

pytestmark = pytest.mark.pools

POOL = "lossy"


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(make_settings(sqlite_url, tmp_path, pool_timeout_seconds=30.0))
    _truncate(sqlite_url)
    breaker.reset()


def _lost_create(
    api: Api, nova: DelayProxy, headers: dict[str, str], server: dict[str, Any]
) -> str:
    """Create ``server`` through the facade with its answer lost; the id Nova gave it."""
    nova.lose = b"POST /v2.1/servers "
    answer = api.client.post(f"/compute/{POOL}/v2.1/servers", headers=headers, json=server)
    assert answer.status_code == 503, answer.text  # tenantfusion saw no answer
    assert nova.lose is None, "the create did not go through the proxy"
    head, _, body = nova.lost[-1].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 202"), head  # but Nova created the server
    return str(json.loads(body)["server"]["id"])


def _records(api: Api, tenant_id: str) -> dict[str, RoutingRecord]:
    with api.sessions() as db:
        rows = db.scalars(
            select(RoutingRecord).where(
                RoutingRecord.tenant_id == tenant_id, RoutingRecord.kind == "server"
            )
        )
        return {r.name: r for r in rows}


def _reconcile(api: Api) -> dict[str, Any]:
    queued = api.client.post(f"/v1/pools/{POOL}/reconcile", headers=api.admin)
    assert queued.status_code == 202, queued.text
    run_pending(sessions=api.sessions, settings=api.client.app.state.settings)
    job = api.client.get(f"/v1/jobs/{queued.json()['id']}", headers=api.admin).json()
    assert job["state"] == "succeeded", job
    return dict(job["result"]["resources"])


@contextmanager
def _lossy(
    api: Api, service: str, cidr: str
) -> Iterator[tuple[DelayProxy, dict[str, object], dict[str, str]]]:
    """West registered again as pool ``lossy``, its ``service`` reached through a proxy
    that can lose an answer (Keystone's catalog rewritten to it), and a new tenant there
    (purged afterwards): the proxy, the tenant and its headers."""
    west = ensure_pools(count=2, kind="full", root=TESTBED_ROOT)[1]
    real = f"127.0.0.1:{west.ports[service]}".encode()
    with DelayProxy(west.ports[service]) as lossy:
        rewrite = {real: f"127.0.0.1:{lossy.port}".encode()}
        with DelayProxy(west.ports["keystone"], rewrite=rewrite) as keystone:
            body = pool_body(west, POOL, default_network_cidr=cidr)
            body["auth"]["auth_url"] = f"http://127.0.0.1:{keystone.port}/v3"
            r = api.client.post("/v1/pools", headers=api.admin, json=body)
            assert r.status_code == 201, r.text
            tenant, headers = api.new_tenant()
            try:
                yield lossy, tenant, headers
            finally:
                gone = api.client.delete(
                    f"/v1/tenants/{tenant['id']}", params={"purge": "true"}, headers=api.admin
                )
                assert gone.status_code in (202, 204), gone.text
                run_pending(sessions=api.sessions, settings=api.client.app.state.settings)


def test_a_server_whose_create_answer_was_lost_is_adopted(api: Api) -> None:
    admin = connect(ensure_pools(count=2, kind="full", root=TESTBED_ROOT)[1])
    with _lossy(api, "nova", "10.78.5.0/24") as (nova, tenant, headers):
        _adopted(api, admin, nova, str(tenant["id"]), headers)


def _adopted(
    api: Api, admin: Any, nova: DelayProxy, tenant_id: str, headers: dict[str, str]
) -> None:
    compute = f"/compute/{POOL}/v2.1"
    flavors = api.client.get(f"{compute}/flavors", headers=headers).json()["flavors"]
    flavor = next(f["id"] for f in flavors if f["name"] == "m1.nano")
    images = api.client.get(f"/image/{POOL}/v2/images", headers=headers).json()["images"]
    image = next(i["id"] for i in images if i["name"] == IMAGE_NAME)
    plain = {"name": "lost-21", "flavorRef": flavor, "imageRef": image, "metadata": {"a": "1"}}
    lost = {"lost-21": _lost_create(api, nova, headers, {"server": plain})}
    tagged = {**plain, "name": "lost-260", "tags": ["red"]}
    latest = {**headers, "OpenStack-API-Version": "compute 2.60"}
    lost["lost-260"] = _lost_create(api, nova, latest, {"server": tagged})

    records = _records(api, tenant_id)
    assert {n: r.state for n, r in records.items()} == {
        "lost-21": RecordState.creating,
        "lost-260": RecordState.creating,
    }
    assert all(r.remote_id is None for r in records.values())
    with api.sessions() as db:  # as if the lease had run out
        for row in db.scalars(select(RoutingRecord).where(RoutingRecord.tenant_id == tenant_id)):
            row.created_at = utcnow() - timedelta(
                seconds=api.client.app.state.settings.lease_seconds + 5
            )
        db.commit()
    report = _reconcile(api)
    adopted = {e["id"]: e.get("remote_id") for e in report["adopted"]}
    assert adopted == {records[n].id: server_id for n, server_id in lost.items()}, report
    assert report["dropped"] == [], report

    records = _records(api, tenant_id)
    for name, server_id in lost.items():
        assert records[name].state is RecordState.active
        assert records[name].remote_id == server_id
    listed = api.client.get("/v1/servers", headers=headers, params={"pool": POOL})
    assert listed.status_code == 200, listed.text
    assert {s["remote_id"] for s in listed.json()["items"]} == set(lost.values())

    # Nova holds the mark; the tenant sees only what it sent
    for name, server_id in lost.items():
        held = admin.compute.get_server(server_id)
        assert held.metadata == {"a": "1", "tf_record": f"tenantfusion {records[name].id}"}
        shown = api.client.get(f"{compute}/servers/{server_id}", headers=latest).json()["server"]
        assert shown["metadata"] == {"a": "1"}
        assert shown["tags"] == (["red"] if name == "lost-260" else [])
    assert admin.compute.get_server(lost["lost-260"]).tags == [
        "red",
        f"tf-rec-{records['lost-260'].id}",
    ]


def test_a_volume_whose_create_answer_was_lost_is_adopted(api: Api) -> None:
    """The same through Cinder: a facade volume is marked by its description (the
    client's metadata stays its own), which the reconciler reads too."""
    with _lossy(api, "cinder", "10.78.6.0/24") as (cinder, tenant, headers):
        cinder.lose = b"POST /v3/volumes "
        answer = api.client.post(
            f"/volume/{POOL}/v3/volumes",
            headers=headers,
            json={"volume": {"name": "lost-vol", "size": 1, "metadata": {"a": "1"}}},
        )
        assert answer.status_code == 503, answer.text
        assert cinder.lose is None, "the create did not go through the proxy"
        head, _, raw = cinder.lost[-1].partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 202"), head  # Cinder made the volume
        volume_id = str(json.loads(raw)["volume"]["id"])
        with api.sessions() as db:
            row = db.scalars(
                select(RoutingRecord).where(RoutingRecord.tenant_id == tenant["id"])
            ).one()
            assert row.state is RecordState.creating and row.kind == "volume"
            row.created_at = utcnow() - timedelta(
                seconds=api.client.app.state.settings.lease_seconds + 5
            )
            db.commit()
            record_id = row.id
        report = _reconcile(api)
        assert {e["id"]: e.get("remote_id") for e in report["adopted"]} == {record_id: volume_id}, (
            report
        )
        listed = api.client.get("/v1/volumes", headers=headers, params={"pool": POOL})
        assert [v["remote_id"] for v in listed.json()["items"]] == [volume_id]
