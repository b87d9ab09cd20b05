"""`tenantfusion jobs retry ID --wait` against a served API (its worker and reconciler
threads running) and a real Keystone pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tenantfusion.db import session_factory
from tenantfusion.jobs.models import Job, JobState
from tenantfusion.mapping.models import Mapping, MappingState
from tests.client.conftest import ADMIN_PASSWORD, Cli, cli, register, serve, served
from tests.conftest import admin_conn, make_settings

__all__ = ["cli", "serve", "served"]  # fixtures used here

pytestmark = pytest.mark.keystone


def test_cli_retries_a_failed_deprovision(
    cli: Cli, keystone_pools: list[Any], sqlite_url: str, tmp_path: Path
) -> None:
    cli.login("root", ADMIN_PASSWORD)
    pool = keystone_pools[0]
    register(cli, pool, "kp1")
    cli.json("tenants", "create", "rho", "--admin-username", "boss", "--admin-password", "boss-p-1")
    cli.login("boss", "boss-p-1", tenant="rho")
    mapping = cli.json("mappings", "create", "kp1")
    tenant_id = cli.json("whoami")["tenant_id"]
    with session_factory(make_settings(sqlite_url, tmp_path))() as db:
        # a deprovision whose job gave up (as after its attempts or deadline ran out)
        db.execute(
            update(Mapping).where(Mapping.id == mapping["id"]).values(state=MappingState.deleting)
        )
        job = Job(
            kind="mapping.deprovision",
            payload={"mapping_id": mapping["id"]},
            tenant_id=tenant_id,
            state=JobState.failed,
            attempts=5,
            total_steps=2,
            error="pool kp1 did not answer",
        )
        db.add(job)
        db.commit()
        job_id = job.id
    failed = cli.json("jobs", "list", "--state", "failed")["items"]
    assert [j["id"] for j in failed] == [job_id]
    done = cli.json("jobs", "retry", job_id, "--wait")
    assert done["state"] == "succeeded" and done["attempts"] == 1, done
    assert admin_conn(pool).identity.find_project(mapping["project_name"]) is None
    again = cli("jobs", "retry", job_id, code=1)
    assert "only a failed job can be retried" in again.stderr and "HTTP 409" in again.stderr
