"""Where a facade request goes: the pool's service endpoint and the tenant's
project-scoped token there, onboarding the tenant on first use exactly as ``/v1`` does
(``resources.engine.onboard``: the mapping ensure flow, then the cached pool session)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tenantfusion.coherence.reuse import Reuse
from tenantfusion.compat.identity import SERVICES
from tenantfusion.config import Settings
from tenantfusion.errors import NotFound
from tenantfusion.mapping import credentials
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.models import MappingState
from tenantfusion.mapping.sessions import tenant_session
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.base import PoolDriver
from tenantfusion.pools.drivers.openstack_errors import translate
from tenantfusion.pools.models import Pool
from tenantfusion.resources.engine import Onboarded, onboard, tenant_of

#: The version (and anything after it, e.g. a legacy project id) ending an endpoint URL.
_VERSION_TAIL = re.compile(r"/v\d+(\.\d+)?(/.*)?$")
#: A pool token this close to its expiry is not reused from here (``resolve`` renews it).
TOKEN_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class Upstream:
    """The tenant's way into one pool's service."""

    where: Onboarded
    #: the tenant's project-scoped token in the pool (never the client's token)
    token: str
    #: the service's unversioned root in the pool, e.g. ``http://10.0.0.5:8774``
    root: str
    #: when ``token`` expires (None: unknown, so never reused)
    expires: datetime | None = None


#: A tenant's way into a pool's service, by (tenant id, region, service).
_reused: Reuse[tuple[str, str, str], Upstream] = Reuse()


def _reusable(key: tuple[str, str, str]) -> Upstream | None:
    up = _reused.get(key)
    if up is None or up.expires is None or up.expires - TOKEN_MARGIN < datetime.now(UTC):
        return None
    return up


def _expiry(session: Any) -> datetime | None:
    access = getattr(getattr(session, "auth", None), "auth_ref", None)
    expires = getattr(access, "expires", None)
    return expires if isinstance(expires, datetime) and expires.tzinfo is not None else None


async def upstream(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    settings: Settings,
    service: str,
    region: str,
) -> Upstream:
    """``resolve`` for a request on the event loop: what this tenant resolved for the same
    pool and service a moment ago (``coherence.reuse``: no thread, no database read), else
    ``resolve`` in a worker thread."""
    key = (tenant_of(actor), region, service)
    found = _reusable(key)
    if found is not None:
        return found
    epoch = _reused.epoch()  # before the reads: a later change ends the reuse
    up: Upstream = await run_in_threadpool(
        resolve, sessions=sessions, actor=actor, settings=settings, service=service, region=region
    )
    _reused.put(key, up, epoch=epoch)
    return up


def root_of(endpoint: str) -> str:
    """An endpoint without its version tail: what facade paths are relative to."""
    return _VERSION_TAIL.sub("", endpoint.rstrip("/"))


def _usable(*, db: Session, service: str, region: str) -> Pool:
    """The enabled pool named ``region`` that offers ``service``; NotFound otherwise (the
    catalog lists no endpoint there)."""
    kind, _, _, offered = SERVICES[service]
    pool = pool_service.get(db=db, ref=region)
    if pool is None or pool.name != region or not pool.is_enabled:
        raise NotFound(f"no {kind} endpoint in region {region}")
    if not set(offered) & set(pool.services):
        raise NotFound(f"region {region} offers no {kind} endpoint")
    return pool


def _root(*, driver: PoolDriver, session: Any, pool: Pool, service: str) -> str:
    kind, _, _, offered = SERVICES[service]
    endpoint = driver.public_endpoint(session=session, service_types=offered)
    if not endpoint:
        raise NotFound(f"region {pool.name} offers no {kind} endpoint")
    return root_of(endpoint)


def resolve(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    settings: Settings,
    service: str,
    region: str,
) -> Upstream:
    """The pool ``region`` as the caller's tenant sees it: one database read when the
    tenant's mapping there is active, else the ensure flow (onboarding). Raises NotFound
    for an unknown or disabled region or one without the service (the catalog lists no
    endpoint there), PoolUnreachable while the pool (its breaker) is down, Forbidden for
    a platform admin, and what onboarding raises."""
    with sessions() as db:
        pool = _usable(db=db, service=service, region=region)
        mapping = mapping_service.get(db=db, tenant_id=tenant_of(actor), pool_id=pool.id)
    ready = (
        mapping is not None
        and mapping.state is MappingState.active
        and not credentials.is_due(mapping, settings=settings)
    )
    where = (
        Onboarded(
            pool=pool,
            mapping=mapping,
            driver=pool_service.driver_for(pool=pool, settings=settings),
            session=tenant_session(mapping=mapping, pool=pool, settings=settings),
        )
        if ready and mapping is not None
        else onboard(sessions=sessions, actor=actor, pool=pool, settings=settings)
    )
    with translate(pool.name, f"facade_{service}_token"):
        token = where.session.get_token()
    root = _root(driver=where.driver, session=where.session, pool=pool, service=service)
    return Upstream(where=where, token=str(token), root=root, expires=_expiry(where.session))


def discovery_root(
    *, sessions: sessionmaker[Session], settings: Settings, service: str, region: str
) -> tuple[str, str]:
    """The pool name and unversioned root of ``service`` in ``region`` for its version
    document, which OpenStack serves without a token: found in the pool admin's catalog,
    so an anonymous caller onboards nobody. Raises NotFound like ``resolve``."""
    with sessions() as db:
        pool = _usable(db=db, service=service, region=region)
    driver = pool_service.driver_for(pool=pool, settings=settings)
    return pool.name, _root(driver=driver, session=None, pool=pool, service=service)
