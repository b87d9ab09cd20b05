"""Idle tenants' application credentials rotated before they expire.

A tenant that calls a pool has its credential rotated when it is due (``mapping.sessions``);
one that stays away would see it expire. So each reconciler pass queues a
``mapping.rotate`` job for every active mapping whose credential is due
(``credentials.is_due``) in the pools that answer, unless one is already queued or
running. The job does the work as any rotation does (``mapping_rotate_flow``): it takes
the mapping's lease (a busy mapping is retried later), calls the pool with no
transaction open, creates the new credential before deleting the old one, and does
nothing if another rotation came first.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.db import utcnow
from tenantfusion.jobs import service as job_service
from tenantfusion.mapping import credentials
from tenantfusion.mapping.models import AuthKind, Mapping, MappingState
from tenantfusion.mapping.sessions import ROTATE_JOB, enqueue_rotation


def queue_due(*, db: Session, settings: Settings, pool_ids: list[str]) -> list[str]:
    """Queue a rotation for each due mapping in ``pool_ids``; returns the job ids (the
    caller commits)."""
    now = utcnow()
    soon = now + timedelta(seconds=settings.app_credential_renew_seconds)
    candidates = db.scalars(
        select(Mapping)
        .where(
            Mapping.pool_id.in_(pool_ids),
            Mapping.state == MappingState.active,
            or_(Mapping.auth_kind == AuthKind.password, Mapping.app_credential_expires_at <= soon),
        )
        .order_by(Mapping.app_credential_expires_at)
    )
    queued: list[str] = []
    for mapping in candidates:
        if not credentials.is_due(mapping, settings=settings, now=now):
            continue
        live = job_service.unfinished(db=db, tenant_id=mapping.tenant_id, kinds=(ROTATE_JOB,))
        if any(job.payload.get("pool_id") == mapping.pool_id for job in live):
            continue
        job = enqueue_rotation(db=db, tenant_id=mapping.tenant_id, pool_id=mapping.pool_id)
        queued.append(job.id)
    return queued
