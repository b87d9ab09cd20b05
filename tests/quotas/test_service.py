"""Own logic of platform quotas on both databases, with an in-memory fake pool above the
driver: the reservation race, release on a refused create, a held reservation while the
outcome is unknown, give-back on delete, per-pool limits, extra charges, push-down.
(Against real OpenStack and PostgreSQL through the API: test_quotas_full.py.)"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.crypto import encrypt_json
from tenantfusion.db import session_factory
from tenantfusion.errors import PoolRejected, PoolUnreachable, QuotaExceeded
from tenantfusion.platform import service as platform_service
from tenantfusion.platform.models import Role
from tenantfusion.platform.principal import SYSTEM, Principal
from tenantfusion.platform.schemas import TenantAdmin, TenantCreate
from tenantfusion.pools.drivers import DRIVERS
from tenantfusion.pools.drivers.base import PoolAuth
from tenantfusion.pools.models import Pool, PoolStatus
from tenantfusion.quotas import service as quotas
from tenantfusion.quotas.schemas import QuotaLimits
from tenantfusion.resources import networks
from tenantfusion.resources import service as records
from tenantfusion.resources.models import RoutingRecord
from tenantfusion.resources.schemas import NetworkCreate
from tests.fakes import CLOUDS, FakeCloud, FakeDriver

THREADS = 24


@dataclass
class World:
    settings: Settings
    sessions: sessionmaker[Session]
    actor: Principal
    pools: dict[str, Pool]
    clouds: dict[str, FakeCloud]

    @property
    def tenant_id(self) -> str:
        assert self.actor.tenant_id
        return self.actor.tenant_id

    def limit(self, pool: str | None = None, **values: int) -> None:
        quotas.update(
            sessions=self.sessions,
            actor=SYSTEM,
            tenant_id=self.tenant_id,
            pool_ref=pool,
            data=QuotaLimits(**values),  # type: ignore[arg-type]
            settings=self.settings,
        )

    def create(self, name: str = "net", pool: str = "qa") -> str:
        return networks.create(
            sessions=self.sessions,
            actor=self.actor,
            data=NetworkCreate(name=name, pool=pool),
            settings=self.settings,
        ).id

    def usage(self, resource: str, pool: str | None = None) -> tuple[int | None, int, int]:
        with self.sessions() as db:
            found = quotas.read(db=db, tenant_id=self.tenant_id)
        u = found.pools[pool][resource] if pool else found.resources[resource]
        return u.limit, u.usage, u.reserved


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    DRIVERS["fake"] = FakeDriver
    sessions = session_factory(settings)
    clouds: dict[str, FakeCloud] = {}
    pools: dict[str, Pool] = {}
    with sessions() as db:
        for name in ("qa", "qb"):
            url = f"fake://quota-{name}-{uuid.uuid4().hex[:6]}"
            CLOUDS[url] = clouds[name] = FakeCloud()
            auth = PoolAuth(auth_url=url, username="admin", password="pw")
            pools[name] = Pool(
                name=name,
                driver="fake",
                auth_url=url,
                project_domain="Default",
                credential=encrypt_json(auth.to_dict(), settings=settings),
                status=PoolStatus.ok,
                services=["identity", "network"],
            )
            db.add(pools[name])
        tenant = platform_service.create_tenant(
            db=db,
            actor=SYSTEM,
            data=TenantCreate(
                name="quota", admin=TenantAdmin(username="boss", password="pw-1234567")
            ),
        )
        db.commit()
    actor = Principal(user_id="u", username="boss", role=Role.tenant_admin, tenant_id=tenant.id)
    yield World(settings, sessions, actor, pools, clouds)
    DRIVERS.pop("fake")
    for pool in pools.values():
        CLOUDS.pop(pool.auth_url)


def _race(w: World, pool: str) -> tuple[int, list[QuotaExceeded]]:
    """THREADS writers take a network's reservation at once, released together."""
    start = threading.Barrier(THREADS)
    refused: list[QuotaExceeded] = []

    def one(i: int) -> bool:
        start.wait()
        with w.sessions() as db:
            try:
                records.begin(
                    db=db,
                    tenant_id=w.tenant_id,
                    pool_id=w.pools[pool].id,
                    kind="network",
                    name=f"n{i}",
                )
                return True
            except QuotaExceeded as e:
                refused.append(e)
                return False

    with ThreadPoolExecutor(THREADS) as ex:
        won = sum(ex.map(one, range(THREADS)))
    return won, refused


def test_concurrent_reservations_leave_exactly_the_room(world: World) -> None:
    w = world
    w.limit(networks=1)
    won, refused = _race(w, "qa")
    assert won == 1 and len(refused) == THREADS - 1
    problem = refused[0].to_problem()
    assert problem["type"] == "quota-exceeded" and problem["status"] == 409
    assert (problem["resource"], problem["limit"], problem["usage"]) == ("networks", 1, 1)
    with w.sessions() as db:
        count = db.scalar(select(func.count()).select_from(RoutingRecord))
    assert count == 1
    assert w.usage("networks") == (1, 0, 1)  # still `creating`: a reservation


def test_a_pool_limit_binds_in_its_pool_only(world: World) -> None:
    w = world
    w.limit("qb", networks=2)
    won, refused = _race(w, "qb")
    assert won == 2 and refused[0].to_problem()["pool"] == "qb"
    assert w.usage("networks", "qb") == (2, 0, 2)
    w.create("elsewhere", pool="qa")  # no limit in qa, none platform-wide
    assert w.usage("networks") == (None, 1, 2)


def test_refused_create_releases_unknown_outcome_holds_delete_gives_back(world: World) -> None:
    w = world
    w.limit(networks=1)
    w.clouds["qa"].reject_on.add("create_network")
    with pytest.raises(PoolRejected):
        w.create()
    assert w.usage("networks") == (1, 0, 0)  # the record went, and its reservation
    w.clouds["qa"].reject_on.clear()

    w.clouds["qa"].fail_on.add("create_network")  # the answer is lost: maybe created
    with pytest.raises(PoolUnreachable):
        w.create()
    assert w.usage("networks") == (1, 0, 1)  # kept until the tag is looked up
    with pytest.raises(QuotaExceeded):
        w.create()
    w.clouds["qa"].fail_on.clear()
    with w.sessions() as db:
        for r in db.scalars(select(RoutingRecord)):
            records.discard(db=db, record=r)  # what reconcile does when nothing appeared

    made = w.create()
    assert w.usage("networks") == (1, 1, 0)  # converted: used, no longer reserved
    with pytest.raises(QuotaExceeded) as refused:
        w.create("second")
    assert refused.value.extra["usage"] == 1
    assert (
        networks.delete(sessions=w.sessions, actor=w.actor, settings=w.settings, record_id=made)
        is None
    )
    assert w.usage("networks") == (1, 0, 0)
    w.create("after-delete")


def test_extra_charges_count_against_their_resource(world: World) -> None:
    w = world
    w.limit(vcpus=3)
    with w.sessions() as db:
        records.begin(
            db=db,
            tenant_id=w.tenant_id,
            pool_id=w.pools["qa"].id,
            kind="server",
            name="s1",
            charges={"vcpus": 2, "ram_mb": 512},
        )
    with w.sessions() as db, pytest.raises(QuotaExceeded) as refused:
        records.begin(
            db=db,
            tenant_id=w.tenant_id,
            pool_id=w.pools["qa"].id,
            kind="server",
            name="s2",
            charges={"vcpus": 2, "ram_mb": 512},
        )
    assert refused.value.extra == {"resource": "vcpus", "limit": 3, "usage": 2, "requested": 2}
    assert w.usage("ram_mb") == (None, 0, 512) and w.usage("servers") == (None, 0, 1)


def test_a_bulk_reservation_is_all_or_nothing(world: World) -> None:
    w = world
    w.limit(servers=3, vcpus=5)
    bulk = {"tenant_id": w.tenant_id, "pool_id": w.pools["qa"].id, "kind": "server"}
    with w.sessions() as db:
        made = records.begin_many(db=db, **bulk, names=["a", "b"], charges={"vcpus": 2})
    assert [r.charges for r in made] == [{"servers": 1, "vcpus": 2}] * 2
    assert w.usage("servers") == (3, 0, 2) and w.usage("vcpus") == (5, 0, 4)
    # a third server would fit the server count but not the vCPUs: none is written
    with w.sessions() as db, pytest.raises(QuotaExceeded) as refused:
        records.begin_many(db=db, **bulk, names=["c", "d"], charges={"vcpus": 1})
    assert refused.value.extra["resource"] == "servers"
    with w.sessions() as db, pytest.raises(QuotaExceeded) as refused:
        records.begin_many(db=db, **bulk, names=["c"], charges={"vcpus": 2})
    assert refused.value.extra == {"resource": "vcpus", "limit": 5, "usage": 4, "requested": 2}
    with w.sessions() as db:
        count = select(func.count()).where(RoutingRecord.tenant_id == w.tenant_id)
        assert db.scalar(count) == 2


def test_limits_are_pushed_to_the_onboarded_projects(world: World) -> None:
    w = world
    w.create()  # onboards the tenant in qa only
    w.limit(servers=10, networks=5)
    w.limit("qa", servers=4, networks=8)
    cloud = w.clouds["qa"]
    [pushed] = cloud.quotas.values()
    assert pushed["servers"] == 4 and pushed["networks"] == 5 and pushed["vcpus"] is None
    assert w.clouds["qb"].quotas == {}
    cloud.down = True
    result = quotas.push(sessions=w.sessions, tenant_id=w.tenant_id, settings=w.settings)
    assert result["qa"].startswith("fake pool down")


def test_onboarding_pushes_the_limits_already_set(world: World) -> None:
    w = world
    w.limit(routers=3)
    w.limit("qb", routers=2)
    w.create(pool="qb")  # onboards the tenant in qb: the ensure steps push its limits
    [pushed] = w.clouds["qb"].quotas.values()
    assert pushed["routers"] == 2 and pushed["servers"] is None
    w.create(pool="qa")
    [pushed] = w.clouds["qa"].quotas.values()
    assert pushed["routers"] == 3


def test_records_from_before_charges_count_one_of_their_kind(world: World) -> None:
    w = world
    w.create()
    with w.sessions() as db:
        db.execute(RoutingRecord.__table__.update().values(charges=None))
        db.commit()
    w.limit(networks=1)
    assert w.usage("networks") == (1, 1, 0)
    with pytest.raises(QuotaExceeded):
        w.create("second")
