"""`tenantfusion quotas show|set` against a served API: set merges with the limits already
there, --unset removes one, json is the API's (with the rows), -f/-c pick, tables list
every resource; a tenant admin may show, not set."""

from __future__ import annotations

from typing import Any

from tests.client.conftest import ADMIN_PASSWORD, Cli


def test_quotas_show_and_set(cli: Cli) -> None:
    cli.login("root", ADMIN_PASSWORD)
    tenant = cli.json(
        "tenants", "create", "quo", "--admin-username", "boss", "--admin-password", "boss-pass-1"
    )
    t = ["--tenant", tenant["id"]]
    set_ = cli.json("quotas", "set", *t, "--servers", "3", "--networks", "2")
    assert set_["resources"]["servers"] == {"limit": 3, "usage": 0, "reserved": 0}
    more = cli.json("quotas", "set", *t, "--vcpus", "8")
    limits: dict[str, Any] = {k: v["limit"] for k, v in more["resources"].items()}
    assert (limits["servers"], limits["networks"], limits["vcpus"]) == (3, 2, 8)
    fewer = cli.json("quotas", "set", *t, "--unset", "servers")
    assert fewer["resources"]["servers"]["limit"] is None
    assert fewer["resources"]["networks"]["limit"] == 2
    shown = cli.json("quotas", "show", *t)
    rows = shown.pop("items")  # the table's rows, beside the API's answer
    assert shown == cli.api(f"/v1/tenants/{tenant['id']}/quotas")
    assert {(r["scope"], r["resource"]) for r in rows} >= {("platform", "servers")}
    value = cli("quotas", "show", *t, "-f", "value", "-c", "resource", "-c", "limit").stdout
    assert "networks 2" in value.splitlines()
    table = cli("quotas", "show", *t).stdout
    assert "floating_ips" in table and "platform" in table
    assert "--unset takes one of" in cli("quotas", "set", *t, "--unset", "disks", code=2).output

    cli.login("boss", "boss-pass-1", tenant="quo")
    assert cli.json("quotas", "show")["resources"]["vcpus"]["limit"] == 8
    refused = cli("quotas", "set", "--servers", "100", code=1).stderr
    assert "(forbidden, HTTP 403)" in refused
