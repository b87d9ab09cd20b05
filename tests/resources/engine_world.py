"""A world of three in-memory fake pools (``fa``, ``fb``, ``fc``) and two tenants, for
the unit tests of the resource engine's own logic (the ``world`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tenantfusion.config import Settings
from tenantfusion.crypto import encrypt_json
from tenantfusion.db import session_factory
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.models import Role
from tenantfusion.platform.principal import SYSTEM, Principal
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate
from tenantfusion.pools.drivers import DRIVERS
from tenantfusion.pools.drivers.base import PoolAuth
from tenantfusion.pools.models import Pool, PoolStatus
from tenantfusion.resources import networks
from tenantfusion.resources.schemas import NetworkCreate
from tests.fakes import CLOUDS, FakeCloud, FakeDriver

POOLS = ("fa", "fb", "fc")


@dataclass
class World:
    settings: Settings
    alice: Principal
    bob: Principal
    clouds: dict[str, FakeCloud]

    @property
    def sessions(self):  # type: ignore[no-untyped-def]
        return session_factory(self.settings)


def tenant(settings: Settings, name: str) -> Principal:
    with session_factory(settings)() as db:
        tenant = platform_service.create_tenant(
            db=db,
            actor=SYSTEM,
            data=TenantCreate(name=name, admin=TenantAdmin(username="boss", password="pw-123456")),
        )
        db.commit()
        return Principal(
            user_id=f"u-{name}", username="boss", role=Role.tenant_admin, tenant_id=tenant.id
        )


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


def make(w: World, actor: Principal, count: int) -> list[str]:
    """``count`` networks of ``actor``'s, one pool after the other (their platform ids)."""
    ids = []
    for i in range(count):
        pool = POOLS[i % len(POOLS)]
        net = networks.create(
            sessions=w.sessions,
            actor=actor,
            data=NetworkCreate(name=f"net-{i:02d}", pool=pool),
            settings=w.settings,
        )
        ids.append(net.id)
    return ids
