"""A world of three in-memory fake pools (``fa``, ``fb``, ``fc``) and two tenants, for
the unit tests of the resource engine's own logic (the ``world`` fixture: conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

from tenantfusion.config import Settings
from tenantfusion.db import session_factory
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.models import Role
from tenantfusion.platform.principal import SYSTEM, Principal
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate
from tenantfusion.resources import networks
from tenantfusion.resources.schemas import NetworkCreate
from tests.fakes import FakeCloud

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
