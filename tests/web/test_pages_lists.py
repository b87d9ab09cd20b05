"""Console list pages on an in-memory fake pool: every value in a row is escaped (names
with markup in them), rows keep their markup, and a page listing several kinds loads the
tenant's routing records once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from markupsafe import escape
from sqlalchemy import event

from tenantfusion.db import engine_for
from tenantfusion.platform.models import Role
from tenantfusion.platform.principal import Principal
from tenantfusion.pools.drivers import DRIVERS
from tenantfusion.pools.drivers.remote import RemoteObject, record_description
from tenantfusion.resources import networks
from tenantfusion.resources.models import RecordState, RoutingRecord
from tenantfusion.resources.schemas import NetworkCreate
from tenantfusion.web import cells
from tests.conftest import Api
from tests.fakes import CLOUDS, FakeCloud, FakeDriver, fake_pool
from tests.web.console import Console

URL = "fake://console-lists"
HOSTILE = """<b onmouseover="x()">a&b's</b>"""
LIST_PAGES = ("servers", "networks", "subnets", "routers", "floating-ips", "volumes")


@pytest.fixture
def console(sqlite_api: Api) -> Iterator[Console]:
    """Tenant acme's console; pool ``fp`` (fake) holds its network and a server, both
    named HOSTILE."""
    DRIVERS["fake"] = FakeDriver
    cloud = CLOUDS[URL] = FakeCloud()
    settings = sqlite_api.client.app.state.settings
    tenant, _ = sqlite_api.new_tenant("acme")
    with sqlite_api.sessions() as db:
        pool = fake_pool(
            name="fp",
            url=URL,
            driver="fake",
            settings=settings,
        )
        db.add(pool)
        db.commit()
        pool_id = pool.id
    actor = Principal(
        user_id="boss", username="boss", role=Role.tenant_admin, tenant_id=str(tenant["id"])
    )
    net = networks.create(
        sessions=sqlite_api.sessions,
        actor=actor,
        data=NetworkCreate(name=HOSTILE, pool="fp"),
        settings=settings,
    )
    project = next(o.project_id for o in cloud.objects.values() if o.remote_id == net.remote_id)
    with sqlite_api.sessions() as db:
        record = RoutingRecord(
            tenant_id=str(tenant["id"]),
            pool_id=pool_id,
            kind="server",
            name=HOSTILE,
            state=RecordState.active,
            remote_id="fake-server-1",
        )
        db.add(record)
        db.commit()
        cloud.objects["fake-server-1"] = RemoteObject(
            kind="server",
            remote_id="fake-server-1",
            name=HOSTILE,
            status="ACTIVE",
            project_id=project,
            description=record_description(record.id),
            attrs={
                "addresses": {"B-net": ["10.2.0.9"], HOSTILE: ["10.0.0.5"], "a-net": ["10.1.0.2"]}
            },
        )
    page = Console(sqlite_api.client.app)
    assert page.login("acme", "boss", "boss-password").status_code == 303
    yield page
    CLOUDS.pop(URL, None)


def test_rows_escape_every_value(console: Console) -> None:
    page = console.get("/console/servers").text
    assert HOSTILE not in page and "<b onmouseover" not in page
    name = str(escape(HOSTILE))
    assert f'<tr data-server="{name}"' in page
    assert f"Delete server {name} in pool fp?" in page  # data-confirm
    assert f'aria-label="Delete server {name}"' in page
    # networks in name order, case aside (Jinja's dictsort did that)
    assert f"<td>{name}: 10.0.0.5; a-net: 10.1.0.2; B-net: 10.2.0.9</td>" in page
    assert '<span class="status s-active">ACTIVE</span>' in page
    nets = console.get("/console/networks").text
    assert HOSTILE not in nets and f'<tr data-network="{name}"' in nets


def test_list_pages_load_the_records_once(console: Console, sqlite_api: Api) -> None:
    engine = engine_for(sqlite_api.client.app.state.settings.resolved_database_url)
    selects: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("SELECT") and "FROM routing_record" in statement:
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for name in LIST_PAGES:
            selects.clear()
            assert console.get(f"/console/{name}").status_code == 200
            assert len(selects) == 1, (name, selects)
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_cells_match_the_markup_the_macros_drew() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert cells.when(at) == "2026-01-02 03:04:05" and cells.when(None) == "—"
    assert cells.badge("<Err>") == '<span class="status s-&lt;err&gt;">&lt;Err&gt;</span>'
    drawn = cells.button(
        "tok", "/x?a=1&b=2", "Go", "danger", 'Sure "x"?', {"z": "<1>", "A": "2"}, aria="Go x"
    )
    assert drawn == (
        '<form method="post" action="/x?a=1&amp;b=2" class="inline" '
        'data-confirm="Sure &#34;x&#34;?">\n'
        '  <input type="hidden" name="csrf_token" value="tok">\n'
        '<input type="hidden" name="A" value="2"><input type="hidden" name="z" value="&lt;1&gt;">'
        '  <button type="submit" class="danger" aria-label="Go x">Go</button>\n'
        "</form>\n"
    )
    assert cells.button("tok", "/y", "Go") == (
        '<form method="post" action="/y" class="inline">\n'
        '  <input type="hidden" name="csrf_token" value="tok">\n'
        '  <button type="submit" class="">Go</button>\n'
        "</form>\n"
    )
