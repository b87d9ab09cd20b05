"""Volumes (Cinder): create with lazy onboarding, attach to and detach from a server of the
same pool (through Nova, which drives Cinder's attachment), delete.

A volume charges one ``volumes`` and its size in ``volume_gb`` against the tenant's
quotas. Cinder takes no tags: the record id is in its description and its ``tf_record``
metadata (what ``find_by_record`` filters on). Cinder deletes at once from the caller's
view (the volume turns ``deleting`` and goes), so a delete runs inside the request; an
attached volume answers 409 and stays.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.config import Settings
from tenantfusion.db import release
from tenantfusion.errors import Conflict, InvalidInput
from tenantfusion.platform.principal import Principal
from tenantfusion.resources import engine
from tenantfusion.resources import servers as server_kind
from tenantfusion.resources.engine import ResourceKind, Row, Target
from tenantfusion.resources.fanout import Deadline
from tenantfusion.resources.schemas import VolumeAction, VolumeCreate, VolumeRead


def _read(row: Row) -> VolumeRead:
    attrs = row.remote.attrs
    on = next(iter(attrs.get("server_ids") or []), None)
    return VolumeRead(
        **row.base(),
        size_gb=attrs.get("size_gb"),
        volume_type=attrs.get("volume_type"),
        server=row.ref("server", on),
        device=(attrs.get("devices") or {}).get(on) if on else None,
    )


KIND = ResourceKind(name="volume", needs=("block-storage",), read=_read)


def create(
    *, sessions: sessionmaker[Session], actor: Principal, data: VolumeCreate, settings: Settings
) -> VolumeRead:
    """Create a volume (status ``creating``, then ``available``), onboarding the tenant into
    the pool first if needed. Raises QuotaExceeded past ``volumes`` or ``volume_gb``."""
    where, placement = engine.place(
        sessions=sessions,
        actor=actor,
        settings=settings,
        kind=KIND,
        requested=data.pool,
        selector=data.pool_selector,
    )
    return engine.create(
        sessions=sessions,
        actor=actor,
        kind=KIND,
        where=where,
        spec={"name": data.name, "size_gb": data.size_gb, "volume_type": data.volume_type},
        placement=placement,
        charges={"volume_gb": data.size_gb},
    )


def _server_in_pool(*, db: Session, volume: Target, server_id: str, settings: Settings) -> Target:
    """The tenant's server ``server_id``, in the volume's pool (InvalidInput naming both
    pools otherwise)."""
    server = engine.routed(
        db=db,
        tenant_id=volume.record.tenant_id,
        kind=server_kind.KIND.name,
        record_id=server_id,
        settings=settings,
    )
    if server.record.pool_id != volume.record.pool_id:
        raise InvalidInput(
            f"server {server_id} is in pool {server.where.pool.name} and volume "
            f"{volume.record.id} in pool {volume.where.pool.name}: a volume attaches only to "
            "servers of its own pool",
            field="server",
            pool=volume.where.pool.name,
            server_pool=server.where.pool.name,
        )
    return server


def _attached_server(*, db: Session, volume: Target, settings: Settings) -> str:
    """The remote id of the server the volume is attached to (read from the pool now).
    Raises Conflict when it is attached to none."""
    where = volume.where
    release(db)
    remote = engine.in_lane(
        volume,
        lambda: where.driver.get_object(
            session=where.session, kind=KIND.name, remote_id=volume.record.remote_id or ""
        ),
        settings=settings,
        deadline=Deadline(settings.operation_deadline_seconds),
    )
    on = list(remote.attrs.get("server_ids") or []) if remote is not None else []
    if not on:
        raise Conflict(f"volume {volume.record.id} is not attached to a server")
    return str(on[0])


def action(
    *, db: Session, actor: Principal, settings: Settings, record_id: str, data: VolumeAction
) -> VolumeRead:
    """attach (to ``server``, in the same pool) or detach (from ``server``, default: the
    one it is on). Nova accepts and Cinder follows: status ``attaching``/``detaching``,
    then ``in-use``/``available``."""
    volume = engine.routed(
        db=db,
        tenant_id=engine.tenant_of(actor),
        kind=KIND.name,
        record_id=record_id,
        settings=settings,
    )
    if data.server:
        server = _server_in_pool(db=db, volume=volume, server_id=data.server, settings=settings)
        server_remote = server.record.remote_id or ""
    elif data.action == "attach":
        raise InvalidInput("attach needs a server", field="server")
    else:
        server_remote = _attached_server(db=db, volume=volume, settings=settings)
    attach = data.action == "attach"
    return engine.act(
        db=db,
        actor=actor,
        settings=settings,
        kind=KIND,
        record_id=record_id,
        action=data.action,
        args={"server_id": server_remote},
        done=lambda v: (server_remote in (v.attrs.get("server_ids") or [])) == attach,
    )


_service = engine.Service(KIND)
list_ = _service.list_
list_async = _service.list_async
show = _service.show
delete = _service.delete
