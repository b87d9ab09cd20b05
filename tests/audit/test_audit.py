"""The audit trail through the real API: every mutating call with its outcome, a hash
chain that ``tenantfusion audit verify`` checks (and that concurrent appends keep intact),
and who may read it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

from sqlalchemy import text

from tests.conftest import TEST_KEY, Api


def verify_cli(url: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTFUSION_")}
    env.update(TENANTFUSION_DATABASE_URL=url, TENANTFUSION_SECRET_KEY=TEST_KEY)
    code = "from tenantfusion.cli import main; main()"
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-c", code, "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def events(api: Api, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    r = api.client.get("/v1/audit", headers=headers, params={"limit": "1000", **params})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_allowed_denied_and_failed_calls_are_recorded(api: Api) -> None:
    tenant, boss = api.new_tenant()
    other, _ = api.new_tenant()
    rid = "probe-request-1"
    api.client.patch(
        f"/v1/tenants/{tenant['id']}",
        headers={**api.admin, "X-Request-ID": rid},
        json={"description": "x"},
    )
    api.client.delete(f"/v1/tenants/{tenant['id']}", headers=boss)  # forbidden
    api.client.post(
        f"/v1/tenants/{other['id']}/users",
        headers=boss,
        json={"username": "zz", "password": "12345678"},
    )  # another tenant
    api.client.post(
        "/v1/tenants",
        headers=api.admin,
        json={"name": tenant["name"], "admin": {"username": "a", "password": "12345678"}},
    )  # conflict
    api.client.delete("/v1/auth/tokens", headers=boss)  # logout
    seen = events(api, api.admin)
    by_action = {(e["action"], e["result"], e["error_type"]) for e in seen}
    assert ("api.update_tenant", "ok", None) in by_action
    assert ("api.delete_tenant", "denied", "forbidden") in by_action
    assert ("api.create_user", "denied", "not-found") in by_action
    assert ("api.create_tenant", "failed", "conflict") in by_action
    assert ("api.revoke_token", "ok", None) in by_action
    update = next(e for e in seen if e["action"] == "api.update_tenant")
    assert update["request_id"] == rid and update["source"] and update["actor_name"] == "root"
    assert update["tenant_id"] == tenant["id"] and update["target_kind"] == "tenants"
    denied = next(e for e in seen if e["action"] == "api.delete_tenant")
    assert denied["actor_name"] == "boss" and denied["tenant_id"] == tenant["id"]


def test_tenant_admins_read_only_their_tenant(api: Api) -> None:
    a, boss_a = api.new_tenant()
    b, boss_b = api.new_tenant()
    api.client.patch(f"/v1/tenants/{b['id']}", headers=api.admin, json={"description": "b"})
    seen_a = events(api, boss_a)
    assert seen_a and {e["tenant_id"] for e in seen_a} == {a["id"]}
    r = api.client.post(
        f"/v1/tenants/{a['id']}/users",
        headers=boss_a,
        json={"username": "m1", "password": "12345678"},
    )
    member = api.login(str(a["name"]), "m1", "12345678")
    assert api.client.get("/v1/audit", headers=member).status_code == 403
    assert r.status_code == 201
    assert {e["tenant_id"] for e in events(api, api.admin)} >= {a["id"], b["id"]}


def test_verify_passes_then_names_the_tampered_entry(api: Api) -> None:
    url = api.client.app.state.settings.resolved_database_url
    for _ in range(3):
        api.new_tenant()
    r = verify_cli(url)
    assert r.returncode == 0 and "audit chain intact" in r.stdout, r.stderr
    with api.sessions.begin() as db:
        victim = db.execute(
            text("SELECT id, seq FROM audit_event ORDER BY seq LIMIT 1 OFFSET 3")
        ).one()
        db.execute(
            text("UPDATE audit_event SET actor_name = 'mallory' WHERE id = :i"), {"i": victim.id}
        )
    r = verify_cli(url)
    assert r.returncode == 1
    assert f"entry {victim.seq}" in r.stderr and victim.id in r.stderr and "changed" in r.stderr
    with api.sessions.begin() as db:
        db.execute(
            text("UPDATE audit_event SET actor_name = 'root' WHERE id = :i"), {"i": victim.id}
        )
        last = db.execute(text("SELECT id FROM audit_event ORDER BY seq DESC LIMIT 1")).scalar_one()
        db.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": last})
    r = verify_cli(url)
    assert r.returncode == 1 and "removed" in r.stderr


def test_concurrent_appends_keep_one_chain(api: Api) -> None:
    tenant, boss = api.new_tenant()
    errors: list[str] = []

    def patch(i: int) -> None:
        for j in range(5):
            r = api.client.patch(
                f"/v1/tenants/{tenant['id']}", headers=api.admin, json={"description": f"{i}-{j}"}
            )
            if r.status_code != 200:
                errors.append(r.text)

    threads = [threading.Thread(target=patch, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    from tenantfusion.audit import service

    with api.sessions() as db:
        report = service.verify(db=db)
    assert report.ok and report.checked >= 60, report
