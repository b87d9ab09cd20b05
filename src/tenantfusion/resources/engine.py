"""What every routed kind shares: the record before the pool call, lazy onboarding,
merged lists with keyset pagination across pools (``listing``), show, delete and actions.

Kind modules (servers, networks, ...) describe themselves with a ``ResourceKind`` and add
only their own validation; the flow lives here once.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as Fields
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.audit import service as audit_service
from tenantfusion.config import Settings
from tenantfusion.db import release
from tenantfusion.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PoolAuthFailed,
    PoolConflict,
    PoolNotAdmin,
    PoolQuotaExceeded,
    PoolRejected,
    PoolUnreachable,
)
from tenantfusion.faults import crash_point
from tenantfusion.idempotency import service as idempotency
from tenantfusion.jobs.models import Job
from tenantfusion.mapping import service as mapping_service
from tenantfusion.mapping.flows import mapping_ensure_flow
from tenantfusion.mapping.models import Mapping
from tenantfusion.mapping.sessions import tenant_session
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.base import PoolDriver
from tenantfusion.pools.drivers.remote import (
    Kind,
    RemoteObject,
    record_description,
    record_tag,
)
from tenantfusion.pools.models import Pool
from tenantfusion.resources import scheduler
from tenantfusion.resources import service as record_service
from tenantfusion.resources.fanout import Deadline, call_pool
from tenantfusion.resources.models import RecordState, RoutingRecord
from tenantfusion.resources.schemas import ListQuery, Placement, ResourcePage, ResourceRead

R = TypeVar("R", bound=ResourceRead)


@dataclass(frozen=True)
class Row:
    """One routed object as read from its pool, with the tenant's other records."""

    record: RoutingRecord
    pool: Pool
    remote: RemoteObject
    refs: record_service.Refs

    def base(self) -> dict[str, Any]:
        """The fields every kind's read model shares."""
        return {
            "id": self.record.id,
            "name": self.remote.name,
            "pool": self.pool.name,
            "remote_id": self.remote.remote_id,
            "status": self.remote.status,
            "state": self.record.state.value,
            "reason": self.record.reason or None,
            "created_at": self.record.created_at,
        }

    def ref(self, kind: str, remote_id: str | None) -> str | None:
        """The platform id of another of the tenant's objects in the same pool."""
        return self.refs.platform_id(self.pool.id, kind, remote_id)


@dataclass(frozen=True)
class ResourceKind(Generic[R]):
    name: Kind
    #: Catalog services the pool must offer.
    needs: tuple[str, ...]
    read: Callable[[Row], R]
    #: The pool finishes deleting later (servers): a job waits for it.
    delete_is_async: bool = False


@dataclass(frozen=True)
class Onboarded:
    """A pool where the tenant's mapping is active, and how to act there as the tenant."""

    pool: Pool
    mapping: Mapping
    driver: PoolDriver
    session: Any  # the tenant's project-scoped pool session


def tenant_of(actor: Principal) -> str:
    if actor.tenant_id is None:
        raise Forbidden("resources are created and listed as a tenant user")
    return actor.tenant_id


def onboard(
    *, sessions: sessionmaker[Session], actor: Principal, pool: Pool, settings: Settings
) -> Onboarded:
    """Ensure the tenant's mapping in ``pool`` (creating project and user if needed, in
    this call) and return the tenant's scoped session there."""
    mapping, _ = mapping_ensure_flow(
        sessions=sessions,
        actor=actor,
        tenant_id=tenant_of(actor),
        pool_ref=pool.id,
        settings=settings,
    )
    return Onboarded(
        pool=pool,
        mapping=mapping,
        driver=pool_service.driver_for(pool=pool, settings=settings),
        session=tenant_session(mapping=mapping, pool=pool, settings=settings),
    )


def place(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    settings: Settings,
    kind: ResourceKind[Any],
    requested: str | None,
    selector: dict[str, str] | None,
) -> tuple[Onboarded, Placement]:
    """Choose the pool (the scheduler, unless ``requested``) and onboard the tenant there."""
    with sessions() as db:
        pool, placement = scheduler.choose(
            db=db,
            settings=settings,
            tenant_id=tenant_of(actor),
            requested=requested,
            selector=selector,
            needs=kind.needs,
        )
    return onboard(sessions=sessions, actor=actor, pool=pool, settings=settings), placement


#: A pool's definite refusals: it answered, and made nothing. Anything else after the
#: request left may have reached the pool: the record stays ``creating`` until its tag is
#: looked up (adopt or drop), never discarded on a guess.
REFUSED = (PoolRejected, PoolQuotaExceeded, PoolConflict, PoolNotAdmin, PoolAuthFailed)


def create(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    kind: ResourceKind[R],
    where: Onboarded,
    spec: Fields[str, Any],
    placement: Placement | None = None,
    tag: str | None = None,
    charges: Fields[str, int] | None = None,
) -> R:
    """Write a ``creating`` record, create the object in the pool, then activate the record.

    The object carries the record id (its tag, and its description), so an interrupted
    create is matched up later. A retry of an idempotent request (same Idempotency-Key)
    resumes its first attempt's record: the object is looked up by its tag first and
    adopted if the first attempt made it. A create the pool refused leaves neither a
    record nor an object; one whose outcome is unknown keeps its ``creating`` record.

    The record reserves the object's quota ``charges`` (beyond one of its kind: a server's
    ``vcpus``, ``ram_mb``) in the transaction that writes it; raises QuotaExceeded before
    anything is written or asked of the pool.
    """
    tenant_id = tenant_of(actor)
    request_key = idempotency.CURRENT.get() if tag is None else None
    with sessions() as db:
        record, resumed = record_service.begin(
            db=db,
            tenant_id=tenant_id,
            pool_id=where.pool.id,
            kind=kind.name,
            name=str(spec.get("name", "")),
            tag=tag,
            request_key=request_key,
            charges=charges,
        )
    crash_point(f"resource.create.{kind.name}.record_written")
    remote = _resume(record=record, kind=kind, where=where) if resumed else None
    if remote is None:
        remote = _create_remote(sessions=sessions, record=record, kind=kind, where=where, spec=spec)
    crash_point(f"resource.create.{kind.name}.pool_done")
    with sessions() as db:
        record = db.merge(record)
        if record.state is RecordState.creating:
            record_service.activate(db=db, record=record, remote_id=remote.remote_id)
        audit_service.record(
            db=db,
            actor=actor,
            action=f"{kind.name}.create",
            target_kind=kind.name,
            target_id=record.id,
            tenant_id=tenant_id,
            detail={
                "pool": where.pool.name,
                "remote_id": remote.remote_id,
                **({"resumed": True} if resumed else {}),
                **({"scheduler": placement.reason} if placement else {}),
            },
        )
        db.commit()
        refs = record_service.refs(db=db, tenant_id=tenant_id)
    read = kind.read(Row(record=record, pool=where.pool, remote=remote, refs=refs))
    read.placement = placement
    return read


def _resume(
    *, record: RoutingRecord, kind: ResourceKind[R], where: Onboarded
) -> RemoteObject | None:
    """What an earlier attempt of the same request left: its object (found by the record
    tag, or already routed), or None when the pool has none (create it now)."""
    if record.pool_id != where.pool.id:
        raise Conflict(
            f"an earlier attempt of this request created its {kind.name} in another pool; "
            "send it again with that pool"
        )
    if record.state in (RecordState.deleting, RecordState.delete_failed):
        raise Conflict(f"the {kind.name} this request created is being deleted")
    if record.state is RecordState.active:
        found = where.driver.get_object(
            session=where.session, kind=kind.name, remote_id=record.remote_id or ""
        )
    else:
        found = where.driver.find_by_record(
            session=where.session, kind=kind.name, record_id=record.id
        )
    if found is None and record.state is RecordState.active:
        raise NotFound(f"the {kind.name} this request created is gone from pool {where.pool.name}")
    return found


def _create_remote(
    *,
    sessions: sessionmaker[Session],
    record: RoutingRecord,
    kind: ResourceKind[R],
    where: Onboarded,
    spec: Fields[str, Any],
) -> RemoteObject:
    """Ask the pool to create the object of ``record``; drop the record only on a definite
    refusal."""
    try:
        return where.driver.create_object(
            session=where.session,
            kind=kind.name,
            project_id=where.mapping.project_remote_id or "",
            spec={
                **spec,
                "description": record_description(record.id),
                "tag": record_tag(record.id),
            },
        )
    except REFUSED:
        with sessions() as db:
            record_service.discard(db=db, record=db.merge(record))
        raise
    except BaseException as e:
        # the answer was lost or garbled: the pool may have made it. The record stays
        # `creating` (invisible to lists); a retry with the same Idempotency-Key or the
        # reconciler looks its tag up and adopts the object or drops the record.
        with sessions() as db:
            record = db.merge(record)
            record.reason = f"outcome unknown: {getattr(e, 'detail', type(e).__name__)}"
            db.commit()
        raise


# --- one object ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    record: RoutingRecord
    where: Onboarded


def routed(
    *,
    db: Session,
    tenant_id: str,
    kind: str,
    record_id: str,
    settings: Settings,
    states: tuple[RecordState, ...] = (RecordState.active,),
) -> Target:
    """A tenant's routed object and how to reach it. Another tenant's id is NotFound."""
    record = record_service.get_or_raise(
        db=db, tenant_id=tenant_id, kind=kind, record_id=record_id, states=states
    )
    pool = pool_service.get_or_raise(db=db, ref=record.pool_id)
    mapping = mapping_service.get_or_raise(db=db, tenant_id=tenant_id, pool_id=pool.id)
    return Target(
        record=record,
        where=Onboarded(
            pool=pool,
            mapping=mapping,
            driver=pool_service.driver_for(pool=pool, settings=settings),
            session=tenant_session(mapping=mapping, pool=pool, settings=settings),
        ),
    )


def follow(
    *,
    db: Session,
    tenant_id: str,
    kind: str,
    record_id: str,
    requested_pool: str | None,
    field: str,
    settings: Settings,
) -> tuple[Target, Placement]:
    """The tenant's object a create refers to (its ``network``, ``server``): the new object
    goes to its pool. Raises NotFound, or InvalidInput when ``pool`` names another pool."""
    target = routed(db=db, tenant_id=tenant_id, kind=kind, record_id=record_id, settings=settings)
    pool = target.where.pool
    if requested_pool and requested_pool != pool.name:
        raise InvalidInput(
            f"{field} {record_id} is in pool {pool.name}, not {requested_pool}",
            field=field,
            pool=requested_pool,
        )
    return target, Placement(pool=pool.name, reason=f"pool of the {field}")


def in_lane(
    target: Target, call: Callable[[], Any], *, settings: Settings, deadline: Deadline
) -> Any:
    """``call()`` in the target pool's lane (bounded concurrency per pool), within what is
    left of ``deadline``. Raises PoolTimeout when the pool does not answer in time."""
    return call_pool(
        target.where.pool,
        call,
        timeout=deadline.remaining(),
        concurrency=settings.pool_concurrency,
    )


def read_target(
    *,
    db: Session,
    target: Target,
    kind: ResourceKind[R],
    settings: Settings,
    deadline: Deadline | None = None,
) -> R:
    """Read the object from its pool now (the session's transaction ended first). Raises
    NotFound if it is gone there, PoolTimeout past the deadline."""
    where = target.where
    release(db)
    remote = in_lane(
        target,
        lambda: where.driver.get_object(
            session=where.session, kind=kind.name, remote_id=target.record.remote_id or ""
        ),
        settings=settings,
        deadline=deadline or Deadline(settings.operation_deadline_seconds),
    )
    if remote is None:
        raise NotFound(
            f"{kind.name} {target.record.id} is routed to pool {where.pool.name} "
            "but no longer exists there",
            pool=where.pool.name,
        )
    refs = record_service.refs(db=db, tenant_id=target.record.tenant_id)
    return kind.read(Row(record=target.record, pool=where.pool, remote=remote, refs=refs))


def show(
    *, db: Session, actor: Principal, settings: Settings, kind: ResourceKind[R], record_id: str
) -> R:
    """One object, its status read from the pool (deletes in progress or failed too)."""
    target = routed(
        db=db,
        tenant_id=tenant_of(actor),
        kind=kind.name,
        record_id=record_id,
        settings=settings,
        states=record_service.VISIBLE,
    )
    return read_target(db=db, target=target, kind=kind, settings=settings)


def act(
    *,
    db: Session,
    actor: Principal,
    settings: Settings,
    kind: ResourceKind[R],
    record_id: str,
    action: str,
    args: Fields[str, Any],
    done: Callable[[RemoteObject], bool] | None = None,
) -> R:
    """Run an action on an object in its pool, audit it, and return the object as it is
    now.

    ``done`` tells from the object whether the action has taken effect: when the pool's
    answer is lost (the connection drops after the pool acted), the object is read back
    and the action counts as done if ``done`` says so, instead of failing a call that
    worked.
    """
    tenant_id = tenant_of(actor)
    target = routed(
        db=db, tenant_id=tenant_id, kind=kind.name, record_id=record_id, settings=settings
    )
    where = target.where
    remote_id = target.record.remote_id or ""
    deadline = Deadline(settings.operation_deadline_seconds)

    def run() -> None:
        try:
            where.driver.act(
                session=where.session, kind=kind.name, remote_id=remote_id, action=action, args=args
            )
        except PoolUnreachable:
            now = where.driver.get_object(
                session=where.session, kind=kind.name, remote_id=remote_id
            )
            if done is None or now is None or not done(now):
                raise

    release(db)
    in_lane(target, run, settings=settings, deadline=deadline)
    audit_service.record(
        db=db,
        actor=actor,
        action=f"{kind.name}.{action}",
        target_kind=kind.name,
        target_id=record_id,
        tenant_id=tenant_id,
        detail={"pool": where.pool.name, **{k: v for k, v in args.items() if v is not None}},
    )
    db.commit()
    return read_target(db=db, target=target, kind=kind, settings=settings, deadline=deadline)


@dataclass(frozen=True)
class Service(Generic[R]):
    """A kind's list/show/delete, bound once (kind modules export these methods)."""

    kind: ResourceKind[R]

    def list_(
        self,
        *,
        db: Session,
        actor: Principal,
        settings: Settings,
        query: ListQuery,
        refs: record_service.Refs | None = None,
    ) -> ResourcePage[R]:
        from tenantfusion.resources import listing  # it builds on this module

        return listing.list_(
            db=db, actor=actor, settings=settings, kind=self.kind, query=query, refs=refs
        )

    async def list_async(
        self,
        *,
        sessions: sessionmaker[Session],
        actor: Principal,
        settings: Settings,
        query: ListQuery,
    ) -> ResourcePage[R]:
        from tenantfusion.resources import listing

        return await listing.list_async(
            sessions=sessions, actor=actor, settings=settings, kind=self.kind, query=query
        )

    def show(self, *, db: Session, actor: Principal, settings: Settings, record_id: str) -> R:
        return show(db=db, actor=actor, settings=settings, kind=self.kind, record_id=record_id)

    def delete(
        self,
        *,
        sessions: sessionmaker[Session],
        actor: Principal,
        settings: Settings,
        record_id: str,
    ) -> Job | None:
        from tenantfusion.resources import deletion  # it builds on this module

        return deletion.delete(
            sessions=sessions, actor=actor, settings=settings, kind=self.kind, record_id=record_id
        )
