"""One world: what the facade creates and deletes is routed like ``/v1``'s objects.

A create on a collection (``POST /servers``, ``/v2.0/networks``, ``subnets``, ``routers``,
``floatingips``, Cinder ``volumes``) writes a ``creating`` routing record first (reserving
quota as ``/v1`` does: a server's flavor vCPUs and RAM, a volume's size) and
activates it with the id from the pool's answer; a refusal drops the record, a lost
answer leaves it ``creating`` for the reconciler, which adopts the object by its mark.
Every create is marked like a v1 create: a Neutron object's description names the record
unless the client set one (the ``tf-rec-<id>`` tag follows); a server's create carries
the ``tf_record`` metadata (every microversion) and, from microversion 2.52, the tag
(``metadata.mark_create``; the facade hides both from the tenant and keeps them through
its metadata and tag calls: ``metadata.py``, ``tags.py``); a volume is marked by its
description only (Cinder has no tags; the client's metadata stays its own), which the
reconciler reads too. A delete the pool accepted hands the record
to ``/v1``'s delete flow (servers: the delete job waits until Nova removed it) or drops it
(Neutron and Cinder deletes are done when answered, as in ``/v1``).

Bulk creates (Neutron's ``{"networks": [...]}``, Nova's multiple create) are routed the
same way, one record per object, by ``compat.bulk``; ``begin`` here handles single ones.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tenantfusion.audit import service as audit_service
from tenantfusion.config import Settings
from tenantfusion.errors import InvalidInput
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import service as pool_service
from tenantfusion.pools.drivers.remote import Kind, record_description, record_tag
from tenantfusion.pools.models import Pool
from tenantfusion.resources import catalog, deletion, servers
from tenantfusion.resources import service as record_service
from tenantfusion.resources.engine import tenant_of
from tenantfusion.resources.models import RecordState, RoutingRecord

#: Neutron collection → (kind, body key).
_NEUTRON = {
    "networks": ("network", "network"),
    "subnets": ("subnet", "subnet"),
    "routers": ("router", "router"),
    "floatingips": ("floating_ip", "floatingip"),
}
_COMPUTE_PATH = re.compile(r"^v2(?:\.1)?/servers(?:/(?P<id>[^/]+))?/?$")
_NEUTRON_PATH = re.compile(r"^v2\.0/(?P<coll>[a-z]+)(?:/(?P<id>[^/]+))?/?$")
#: Cinder's volumes, with or without the project id in the path.
_VOLUME_PATH = re.compile(r"^v3/(?:[0-9a-fA-F]{32}/)?volumes(?:/(?P<id>[^/]+))?/?$")
#: Kinds whose facade creates get the record tag after the create (servers get theirs in
#: the create itself; Cinder has none).
_TAGGED = frozenset({"network", "subnet", "router", "floating_ip"})


@dataclass(frozen=True)
class Routed:
    """A facade request that creates (``remote_id`` None) or deletes a routed object."""

    kind: Kind
    key: str
    collection: str
    remote_id: str | None = None


def match(*, service: str, method: str, rest: str) -> Routed | None:
    """The routed object a request creates or deletes, or None for any other request."""
    if method not in ("POST", "DELETE"):
        return None
    found: Routed | None = None
    if service == "compute" and (m := _COMPUTE_PATH.match(rest)):
        found = Routed("server", "server", "v2.1/servers", m["id"])
    elif service == "network" and (m := _NEUTRON_PATH.match(rest)) and m["coll"] in _NEUTRON:
        kind, key = _NEUTRON[m["coll"]]
        found = Routed(kind, key, f"v2.0/{m['coll']}", m["id"])  # type: ignore[arg-type]
    elif service == "volume" and (m := _VOLUME_PATH.match(rest)):
        found = Routed("volume", "volume", "v3/volumes", m["id"])
    if found is None or (method == "POST") != (found.remote_id is None):
        return None
    if found.remote_id is not None and found.remote_id == "detail":
        return None
    return found


def _positive(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and not isinstance(value, bool) else None


def charges(
    *, routed: Routed, obj: dict[str, Any], pool: Pool, settings: Settings
) -> dict[str, int]:
    """What a create counts against the quotas besides one object of its kind, as ``/v1``
    counts it: a server's flavor vCPUs and RAM (the ``flavorRef``, an id or a link, found
    in the pool), a volume's size. Nothing more when the body does not say (the pool
    refuses such a create itself). Calls the pool: never inside a transaction."""
    if routed.kind == "volume":
        size = _positive(obj.get("size"))
        return {"volume_gb": size} if size else {}
    ref = obj.get("flavorRef")
    if routed.kind != "server" or not isinstance(ref, str) or not ref.strip("/"):
        return {}
    driver = pool_service.driver_for(pool=pool, settings=settings)
    try:
        flavor = catalog.lookup(
            driver=driver,
            pool=pool,
            kind="flavor",
            ref=ref.rstrip("/").rsplit("/", 1)[-1],
            field="flavorRef",
        )
    except InvalidInput:
        return {}
    return {"vcpus": flavor.attrs["vcpus"], "ram_mb": flavor.attrs["ram_mb"]}


def begin(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    settings: Settings,
    pool: Pool,
    routed: Routed,
    body: Any,
) -> RoutingRecord | None:
    """Write the ``creating`` record of a single-object create and mark ``body`` with it
    (in place; a server's mark is the caller's: ``metadata.mark_create`` needs the
    request's microversion). None for bodies that are not one object (bulk creates go to
    ``compat.bulk`` before this). Raises QuotaExceeded."""
    obj = body.get(routed.key) if isinstance(body, dict) else None
    if not isinstance(obj, dict):
        return None
    charged = charges(routed=routed, obj=obj, pool=pool, settings=settings)
    with sessions() as db:
        record, _ = record_service.begin(
            db=db,
            tenant_id=tenant_of(actor),
            pool_id=pool.id,
            kind=routed.kind,
            name=str(obj.get("name") or ""),
            charges=charged,
        )
    if routed.kind != "server" and not obj.get("description"):
        obj["description"] = record_description(record.id)
    return record


def finish(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    pool: Pool,
    record: RoutingRecord,
    routed: Routed,
    status: int | None,
    answer: Any,
) -> str | None:
    """Settle the record after the pool answered ``status`` (None: no answer) with
    ``answer``; the new object's remote id when it was created."""
    obj = answer.get(routed.key) if isinstance(answer, dict) else None
    remote_id = obj.get("id") if isinstance(obj, dict) else None
    with sessions() as db:
        record = db.merge(record)
        if status is not None and 400 <= status < 500:
            record_service.discard(db=db, record=record)
            return None
        if status is None or status >= 300 or not isinstance(remote_id, str):
            record.reason = f"outcome unknown: the pool answered {status} through the facade"
            db.commit()
            return None
        record_service.activate(db=db, record=record, remote_id=remote_id)
        _audit(db=db, actor=actor, record=record, pool=pool, action="create")
        db.commit()
    return remote_id


def follow_up(*, routed: Routed, record: RoutingRecord, remote_id: str) -> str | None:
    """The pool path to PUT that finishes a routed create: a Neutron object's record tag,
    like a v1 create. Servers get theirs in the create itself (Nova refuses tags while a
    server builds); Cinder has no tags."""
    if routed.kind not in _TAGGED:
        return None
    return f"{routed.collection}/{remote_id}/tags/{record_tag(record.id)}"


def deleted(
    *,
    sessions: sessionmaker[Session],
    actor: Principal,
    settings: Settings,
    pool: Pool,
    routed: Routed,
) -> None:
    """The pool accepted a delete: servers go to v1's delete job (it waits until Nova has
    removed the server, then drops the record); other kinds' records go now."""
    with sessions() as db:
        record = record_service.by_remote(
            db=db,
            tenant_id=tenant_of(actor),
            pool_id=pool.id,
            kind=routed.kind,
            remote_id=routed.remote_id or "",
        )
        if record is None or record.state is RecordState.creating:
            return
        if routed.kind != "server":
            _audit(db=db, actor=actor, record=record, pool=pool, action="delete")
            record_service.discard(db=db, record=record)
            return
    if record.state is not RecordState.deleting:
        deletion.request(
            sessions=sessions,
            actor=actor,
            settings=settings,
            kind=servers.KIND,
            record_id=record.id,
            sent=True,  # the pool answered the forwarded delete already
        )


def _audit(
    *, db: Session, actor: Principal, record: RoutingRecord, pool: Pool, action: str
) -> None:
    audit_service.record(
        db=db,
        actor=actor,
        action=f"{record.kind}.{action}",
        target_kind=record.kind,
        target_id=record.id,
        tenant_id=record.tenant_id,
        detail={"pool": pool.name, "remote_id": record.remote_id, "via": "facade"},
    )


def json_body(raw: bytes) -> Any:
    """``raw`` parsed as JSON; None when empty or not JSON."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
