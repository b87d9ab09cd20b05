"""Deletes as outbox jobs on a real full pool: a server whose compute host stops answering
is given up by the deadline (``delete_failed`` with the pool's reason, visible, deletable
again), and deleted for real once the host is back; a network in use answers 409 and stays.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tenantfusion.jobs.worker import run_pending
from tenantfusion.testbed import PoolInfo, connect, ensure_pools
from tenantfusion.testbed.layout import Layout
from tenantfusion.testbed.process import running_pid
from tests.conftest import TESTBED_ROOT, Api, _truncate, make_api, make_settings, pool_body
from tests.resources.test_servers_full import wait_for

pytestmark = pytest.mark.pools


@pytest.fixture
def west(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[Api, PoolInfo]]:
    info = ensure_pools(count=2, kind="full")[1]
    settings = make_settings(
        sqlite_url, tmp_path, pool_timeout_seconds=30.0, delete_deadline_seconds=8.0
    )
    for api in make_api(settings):
        body = {**pool_body(info, "west"), "default_network_cidr": "198.51.100.0/24"}
        r = api.client.post("/v1/pools", headers=api.admin, json=body)
        assert r.status_code == 201, r.text
        yield api, info
    _truncate(sqlite_url)


def job_until(api: Api, headers: dict[str, str], job_id: str, states: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run_pending(sessions=api.sessions, settings=api.client.app.state.settings)
        job = api.client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] in states:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} never reached {states}")


def test_a_delete_the_pool_does_not_finish_ends_visible_and_retryable(
    west: tuple[Api, PoolInfo],
) -> None:
    api, info = west
    _, headers = api.new_tenant()
    nova = connect(info)
    flavor = min(nova.compute.flavors(), key=lambda f: f.ram).name
    image = next(iter(nova.image.images(visibility="public"))).name
    r = api.client.post(
        "/v1/servers",
        headers=headers,
        json={"name": "stuck", "flavor": flavor, "image": image, "pool": "west"},
    )
    assert r.status_code == 201, r.text
    server = wait_for(api, headers, r.json()["id"], "ACTIVE")

    # the network holds the server's port: in use, 409, and it stays
    network = next(
        n
        for n in api.client.get("/v1/networks", headers=headers).json()["items"]
        if n["name"] == "default"
    )
    refused = api.client.delete(f"/v1/networks/{network['id']}", headers=headers)
    assert refused.status_code == 409, refused.text
    again = api.client.get(f"/v1/networks/{network['id']}", headers=headers).json()
    assert again["state"] == "active"

    compute = running_pid(Layout.at(TESTBED_ROOT).pool_dir(info.index) / "nova-compute.pid")
    assert compute is not None
    os.kill(compute, signal.SIGSTOP)  # the host takes the delete and never does it
    try:
        accepted = api.client.delete(f"/v1/servers/{server['id']}", headers=headers)
        assert accepted.status_code == 202, accepted.text
        failed = job_until(api, headers, accepted.json()["id"], {"failed", "succeeded"})
        assert failed["state"] == "failed", failed
        shown = api.client.get(f"/v1/servers/{server['id']}", headers=headers).json()
        assert shown["state"] == "delete_failed" and "after accepting its delete" in shown["reason"]
        listed = api.client.get("/v1/servers", headers=headers).json()["items"]
        assert [s["state"] for s in listed if s["id"] == server["id"]] == ["delete_failed"]
    finally:
        os.kill(compute, signal.SIGCONT)

    retry = api.client.delete(f"/v1/servers/{server['id']}", headers=headers)
    assert retry.status_code == 202, retry.text
    done = job_until(api, headers, retry.json()["id"], {"failed", "succeeded"})
    assert done["state"] == "succeeded", done
    assert nova.compute.find_server(server["remote_id"], all_projects=True) is None
    gone = api.client.get(f"/v1/servers/{server['id']}", headers=headers)
    assert gone.status_code == 404
