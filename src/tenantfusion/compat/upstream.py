"""Where a facade request goes: the pool's service endpoint and the tenant's
project-scoped token there, onboarding the tenant on first use exactly as ``/v1`` does
(``resources.engine.onboard``: the mapping ensure flow, then the cached pool session)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.compat.identity import SERVICES
from tenantfusion.config import Settings
from tenantfusion.errors import NotFound
from tenantfusion.mapping import credentials
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.models import MappingState
from tenantfusion.mapping.sessions import tenant_session
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.openstack_errors import translate
from tenantfusion.resources.engine import Onboarded, onboard, tenant_of

#: The version (and anything after it, e.g. a legacy project id) ending an endpoint URL.
_VERSION_TAIL = re.compile(r"/v\d+(\.\d+)?(/.*)?$")


@dataclass(frozen=True)
class Upstream:
    """The tenant's way into one pool's service."""

    where: Onboarded
    #: the tenant's project-scoped token in the pool (never the client's token)
    token: str
    #: the service's unversioned root in the pool, e.g. ``http://10.0.0.5:8774``
    root: str


def root_of(endpoint: str) -> str:
    """An endpoint without its version tail: what facade paths are relative to."""
    return _VERSION_TAIL.sub("", endpoint.rstrip("/"))


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
    kind, _, _, offered = SERVICES[service]
    with sessions() as db:
        pool = pool_service.get(db=db, ref=region)
        mapping = (
            mapping_service.get(db=db, tenant_id=tenant_of(actor), pool_id=pool.id)
            if pool is not None
            else None
        )
    if pool is None or pool.name != region or not pool.is_enabled:
        raise NotFound(f"no {kind} endpoint in region {region}")
    if not set(offered) & set(pool.services):
        raise NotFound(f"region {region} offers no {kind} endpoint")
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
        endpoint = next(
            (
                url
                for candidate in offered
                if (
                    url := where.session.get_endpoint(
                        service_type=candidate, interface="public", region_name=pool.region_name
                    )
                )
            ),
            None,
        )
    if not endpoint:
        raise NotFound(f"region {region} offers no {kind} endpoint")
    return Upstream(where=where, token=str(token), root=root_of(str(endpoint)))
