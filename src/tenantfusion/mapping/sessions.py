"""Scoped token cache: one keystoneauth session per mapping, shared by all calls.

A session holds its project-scoped token and re-authenticates only when the token nears
expiry or a pool answers 401, so a busy tenant costs one Keystone token per token lifetime.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from tenantfusion.config import Settings
from tenantfusion.crypto import decrypt_json
from tenantfusion.errors import Conflict
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.base import PoolAuth
from tenantfusion.pools.models import Pool

_lock = threading.Lock()
_sessions: dict[str, tuple[str, Any]] = {}


def _fingerprint(mapping: Mapping, pool: Pool) -> str:
    parts = (mapping.credential or "", mapping.project_remote_id or "", pool.credential)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def tenant_session(*, mapping: Mapping, pool: Pool, settings: Settings) -> Any:
    """The cached project-scoped session of an active mapping. Raises Conflict otherwise."""
    if mapping.state is not MappingState.active or not mapping.credential:
        raise Conflict(f"the mapping in pool {pool.name} is {mapping.state.value}, not active")
    fingerprint = _fingerprint(mapping, pool)
    cached = _sessions.get(mapping.id)
    if cached and cached[0] == fingerprint:
        return cached[1]
    with _lock:
        cached = _sessions.get(mapping.id)
        if cached and cached[0] == fingerprint:
            return cached[1]
        auth = PoolAuth(
            auth_url=pool.auth_url,
            username=mapping.user_name,
            password=decrypt_json(mapping.credential, settings=settings)["password"],
            project_id=mapping.project_remote_id,
            user_domain_name=pool.project_domain,
            region_name=pool.region_name,
        )
        session = pool_service.driver_for(pool=pool, settings=settings).tenant_session(auth)
        _sessions[mapping.id] = (fingerprint, session)
        return session


def forget(*, mapping_id: str) -> None:
    """Drop a mapping's cached session (deprovisioned or credential replaced)."""
    with _lock:
        _sessions.pop(mapping_id, None)
