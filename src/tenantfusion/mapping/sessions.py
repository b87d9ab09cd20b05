"""Scoped token cache: one keystoneauth session per mapping, shared by all calls.

A session holds its project-scoped token and re-authenticates only when the token nears
expiry or a pool answers 401, so a busy tenant costs one Keystone token per token lifetime.
It authenticates with the mapping's application credential; with the pool user's
password only for mappings not upgraded yet, pools without application credentials, or a
credential that expired before its rotation ran. Building a session whose credential is
due for rotation queues a rotation job.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.db import session_scope, utcnow
from tenantfusion.errors import Conflict
from tenantfusion.mapping import credentials
from tenantfusion.mapping.models import Mapping, MappingState
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.models import Pool

if TYPE_CHECKING:
    from tenantfusion.jobs.models import Job

log = structlog.get_logger(__name__)

#: Job kind that rotates one mapping's application credential when it is due.
ROTATE_JOB = "mapping.rotate"
#: A process asks for a mapping's rotation at most this often.
ROTATION_REQUEST_SECONDS = 300.0

_lock = threading.Lock()
_sessions: dict[str, tuple[str, Any]] = {}
_rotation_requested: dict[str, float] = {}


def _expired(mapping: Mapping) -> bool:
    expires = mapping.app_credential_expires_at
    return expires is not None and expires <= utcnow()


def _fingerprint(mapping: Mapping, pool: Pool) -> str:
    parts = (
        mapping.credential or "",
        mapping.app_credential or "",
        mapping.auth_kind.value,
        str(_expired(mapping)),
        mapping.project_remote_id or "",
        pool.credential,
    )
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def enqueue_rotation(*, db: Session, tenant_id: str, pool_id: str) -> Job:
    """Queue a ``mapping.rotate`` job for the tenant's mapping in the pool (runs after the
    caller commits; does nothing then if the credential is no longer due)."""
    from tenantfusion.jobs import service as job_service
    from tenantfusion.platform.principal import SYSTEM

    return job_service.enqueue(
        db=db,
        actor=SYSTEM,
        kind=ROTATE_JOB,
        tenant_id=tenant_id,
        payload={"tenant_id": tenant_id, "pool_id": pool_id},
        total_steps=1,
    )


def _enqueue_rotation(*, tenant_id: str, pool_id: str, settings: Settings) -> None:
    try:
        with session_scope(settings) as db:
            enqueue_rotation(db=db, tenant_id=tenant_id, pool_id=pool_id)
        log.info("mapping.rotation_requested", tenant_id=tenant_id, pool_id=pool_id)
    except Exception as e:  # the credential still works: never fail the caller for this
        log.warning("mapping.rotation_request_failed", pool_id=pool_id, error=type(e).__name__)


def request_rotation(*, mapping: Mapping, settings: Settings) -> None:
    """Queue a job that rotates the mapping's credential, from another thread (never
    inside the caller's transaction); at most once per process per
    ROTATION_REQUEST_SECONDS; the job does nothing if another rotation came first."""
    now = time.monotonic()
    if now - _rotation_requested.get(mapping.id, -ROTATION_REQUEST_SECONDS) < (
        ROTATION_REQUEST_SECONDS
    ):
        return
    _rotation_requested[mapping.id] = now
    threading.Thread(
        target=_enqueue_rotation,
        kwargs={"tenant_id": mapping.tenant_id, "pool_id": mapping.pool_id, "settings": settings},
        daemon=True,
    ).start()


def tenant_session(*, mapping: Mapping, pool: Pool, settings: Settings) -> Any:
    """The cached project-scoped session of an active mapping. Raises Conflict otherwise."""
    if mapping.state is not MappingState.active or not mapping.credential:
        raise Conflict(f"the mapping in pool {pool.name} is {mapping.state.value}, not active")
    if credentials.is_due(mapping, settings=settings):
        request_rotation(mapping=mapping, settings=settings)
    fingerprint = _fingerprint(mapping, pool)
    cached = _sessions.get(mapping.id)
    if cached and cached[0] == fingerprint:
        return cached[1]
    with _lock:
        cached = _sessions.get(mapping.id)
        if cached and cached[0] == fingerprint:
            return cached[1]
        driver = pool_service.driver_for(pool=pool, settings=settings)
        app = credentials.app_credential_auth(
            mapping, auth_url=pool.auth_url, region=pool.region_name, settings=settings
        )
        if app is not None and not _expired(mapping):
            session = driver.app_credential_session(app)
        else:
            session = driver.tenant_session(
                credentials.password_auth(
                    mapping,
                    auth_url=pool.auth_url,
                    domain=pool.project_domain,
                    region=pool.region_name,
                    settings=settings,
                )
            )
        _sessions[mapping.id] = (fingerprint, session)
        return session


def forget(*, mapping_id: str) -> None:
    """Drop a mapping's cached session (deprovisioned or credential replaced)."""
    with _lock:
        _sessions.pop(mapping_id, None)
