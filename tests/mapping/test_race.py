"""50 concurrent ensures from 2 processes: one project, one user, one row (both backends)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import ROOT, TEST_KEY, Api, admin_conn
from tests.mapping.test_mapping_keystone import projects_of, register, users_named

pytestmark = pytest.mark.keystone


def test_fifty_concurrent_ensures_from_two_processes(
    api: Api, keystone_pools: list[Any], database_url: str
) -> None:
    pool = keystone_pools[1]
    register(api, pool, "beta")
    tenant, _ = api.new_tenant()
    start_at = time.time() + 4.0
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.mapping.race_worker",
                database_url,
                TEST_KEY,
                tenant["id"],
                "beta",
                "25",
                str(start_at),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results: list[str] = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        results.extend(json.loads(out.strip().splitlines()[-1]))
    assert len(results) == 50
    assert {r.split(":")[0] for r in results} == {"active"}, results
    assert len({r.split(":")[1] for r in results}) == 1
    projects = projects_of(pool, tenant["id"])
    assert len(projects) == 1
    with api.sessions() as db:
        rows = db.execute(text("SELECT project_name, project_remote_id FROM mapping")).all()
    assert len(rows) == 1 and rows[0][1] == projects[0].id
    assert len(users_named(pool, rows[0][0])) == 1
    conn = admin_conn(pool)
    assert (
        len(list(conn.identity.role_assignments(user_id=users_named(pool, rows[0][0])[0].id))) == 1
    )
