"""The ``world`` fixture of the resource engine's unit tests (``engine_world``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenantfusion.config import Settings
from tenantfusion.crypto import encrypt_json
from tenantfusion.db import session_factory
from tenantfusion.pools.drivers import DRIVERS
from tenantfusion.pools.drivers.base import PoolAuth
from tenantfusion.pools.models import Pool, PoolStatus
from tests.fakes import CLOUDS, FakeCloud, FakeDriver
from tests.resources.engine_world import POOLS, World, tenant


@pytest.fixture
def world(sqlite_settings: Settings) -> Iterator[World]:
    DRIVERS["fake"] = FakeDriver
    clouds: dict[str, FakeCloud] = {}
    with session_factory(sqlite_settings)() as db:
        for i, name in enumerate(POOLS):
            url = f"fake://engine-{name}"
            CLOUDS[url] = clouds[name] = FakeCloud()
            auth = PoolAuth(auth_url=url, username="admin", password="pw")
            db.add(
                Pool(
                    name=name,
                    driver="fake",
                    auth_url=url,
                    project_domain="Default",
                    credential=encrypt_json(auth.to_dict(), settings=sqlite_settings),
                    status=PoolStatus.ok,
                    services=["identity", "network"],
                    labels={"zone": "z1" if i < 2 else "z2"},
                )
            )
        db.commit()
    yield World(
        sqlite_settings, tenant(sqlite_settings, "alice"), tenant(sqlite_settings, "bob"), clouds
    )
    DRIVERS.pop("fake")
    for name in POOLS:
        CLOUDS.pop(f"fake://engine-{name}")
