"""Pass-through to a pool's Nova, Neutron, Glance or Cinder as the caller's tenant.

``<facade>/<service>/<region>/<path>`` goes to ``<pool's service root>/<path>``:

- the client's ``X-Auth-Token`` never leaves: the tenant's project-scoped pool token
  (the cached ``mapping.sessions`` session) replaces it; only known-safe request headers
  pass (microversions, request id, content negotiation, Glance's image headers);
- admin-only APIs (hypervisors, services, aggregates, agents, ``all_tenants``...) are
  refused with 403 before anything reaches the pool; the pool's own policy refuses the
  rest, and its project isolation keeps other tenants' objects out of reach;
- JSON answers have the pool's root rewritten to the facade's (``Location``, ``links``,
  ``href``, ``next``); other answers (image data) stream through unchanged; request
  bodies go whole (bounded by ``max_body_bytes``; the pools' WSGI servers refuse chunked
  JSON bodies), except image data uploads (``PUT .../v2/images/<id>/file`` or ``stage``),
  which stream to Glance as they arrive, bounded by ``max_image_bytes`` (``upload``);
- the pool's circuit breaker fails a down pool fast (503) and learns from each answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import Any

import aiohttp
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from tenantfusion.compat import bulk, marks, metadata, records, settle, tags, upload
from tenantfusion.compat.upstream import Upstream, discovery_root, upstream
from tenantfusion.config import Settings
from tenantfusion.deps import get_app_settings, get_sessions
from tenantfusion.errors import Forbidden, NotFound, PoolUnreachable
from tenantfusion.platform.principal import Principal
from tenantfusion.pools import aio
from tenantfusion.resources import defaults

#: Path segments only a cloud admin may use, per service.
ADMIN_ONLY: dict[str, frozenset[str]] = {
    "compute": frozenset(
        {
            "os-hypervisors",
            "os-services",
            "os-aggregates",
            "os-hosts",
            "os-migrations",
            "os-cells",
            "os-quota-class-sets",
            "os-server-external-events",
            "os-assisted-volume-snapshots",
            "os-instance_usage_audit_log",
        }
    ),
    "network": frozenset({"agents", "network-ip-availabilities", "quota-classes"}),
    "image": frozenset(),
    "volume": frozenset({"os-services", "os-hosts", "scheduler-stats", "os-volume-transfer"}),
}
#: Query parameters that widen a listing beyond the caller's project.
ALL_PROJECTS = frozenset({"all_tenants", "all_projects"})
#: Request headers passed on to the pool (lower case); everything else stays here.
FORWARDED = frozenset(
    {
        "accept",
        "content-type",
        "openstack-api-version",
        "x-openstack-nova-api-version",
        "x-openstack-request-id",
        "user-agent",
        "if-match",
        "if-none-match",
        "range",
        "content-range",
    }
)
FORWARDED_PREFIXES = ("x-image-meta-", "x-openstack-")
#: Response headers the facade sets itself.
DROPPED = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}
)


def install(app: FastAPI, settings: Settings) -> None:
    """Set the timeout of the calls into pools (``pools.aio``: no proxy variables)."""
    aio.configure(timeout_seconds=settings.pool_timeout_seconds)


async def close(app: FastAPI) -> None:
    await aio.close()


def refuse_admin_only(*, service: str, path: str, query: Mapping[str, str]) -> None:
    """Raises Forbidden for an admin-only API or an all-projects listing."""
    segments = {s for s in path.split("/") if s}
    if segments & ADMIN_ONLY[service]:
        raise Forbidden(f"{path} is an administrator API; the facade offers tenant APIs only")
    wide = [k for k in ALL_PROJECTS if query.get(k, "").lower() not in ("", "0", "false")]
    if wide:
        raise Forbidden(f"{wide[0]} lists other projects: not allowed through the facade")


def _request_headers(request: Request, token: str | None) -> dict[str, str]:
    headers = {
        k: v
        for k, v in request.headers.items()
        if k in FORWARDED or k.startswith(FORWARDED_PREFIXES)
    }
    if token is not None:
        headers["x-auth-token"] = token
    return headers


def _rewriter(root: str, facade: str) -> re.Pattern[str]:
    return re.compile(re.escape(root) + r"(?=[/\"?#]|$)")


def _response_headers(
    answer: aiohttp.ClientResponse, pattern: re.Pattern[str], facade: str
) -> dict[str, str]:
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED}
    for name in ("location", "content-location"):
        if name in headers:
            headers[name] = pattern.sub(facade, headers[name])
    return headers


def _is_json(answer: aiohttp.ClientResponse) -> bool:
    return "json" in answer.headers.get("content-type", "")


def _text(raw: bytes) -> str:
    """Bytes as text for the URL rewrite, any byte kept (``_bytes`` gives them back)."""
    return raw.decode("utf-8", "surrogateescape")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


async def _relay(answer: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The answer's body as it arrives; its connection is released however it ends."""
    try:
        async for chunk in answer.content.iter_any():
            yield chunk
    finally:
        answer.release()


def _facade_root(request: Request, service: str, region: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/{service}/{region}"


async def discover(*, request: Request, service: str, region: str) -> Response:
    """``GET`` of a service's root: the pool's version document, which OpenStack serves
    without a token (Tempest's version tests send none), its links on the facade. The
    client's token, if any, does not travel either."""
    sessions, settings = get_sessions(request), get_app_settings(request)
    pool, root = await run_in_threadpool(
        discovery_root, sessions=sessions, settings=settings, service=service, region=region
    )
    facade = _facade_root(request, service, region)
    pattern = _rewriter(root, facade)
    answer = await aio.send(
        pool=pool, method="GET", url=f"{root}/", headers=_request_headers(request, None)
    )
    raw = await aio.read(answer, pool=pool)
    return Response(
        _bytes(pattern.sub(facade, _text(raw))),
        status_code=answer.status,
        headers=_response_headers(answer, pattern, facade),
    )


async def forward(
    *, request: Request, caller: Principal, service: str, region: str, path: str
) -> Response:
    """Forward one request to ``region``'s ``service`` as the caller's tenant."""
    refuse_admin_only(service=service, path=path, query=request.query_params)
    sessions, settings = get_sessions(request), get_app_settings(request)
    streamed = (
        upload.body(request, limit=settings.max_image_bytes)
        if upload.streams(request.scope)
        else None
    )
    up = await upstream(
        sessions=sessions, actor=caller, settings=settings, service=service, region=region
    )
    pool = up.where.pool
    facade = _facade_root(request, service, region)
    pattern = _rewriter(up.root, facade)
    url = f"{up.root}/{path}"
    query = request.url.query
    routed = records.match(service=service, method=request.method, rest=path)
    record = None
    batch: bulk.Batch | None = None
    content: Any
    method = request.method
    tagging = tags.match(service=service, path=path)
    if tagging is not None and tags.hides_one(tagging):
        raise NotFound(f"tag {tagging.tag} not found")  # the platform's own
    meta = metadata.match(service=service, path=path)
    if meta is not None and metadata.hides_one(meta):
        raise NotFound("Metadata item was not found")  # the platform's own, as Nova says
    if tagging is not None and tagging.tag is None and method in ("PUT", "DELETE"):
        kept = await _platform_tags(request, up, tagging)
        content = (
            tags.replacing(records.json_body(await request.body()), kept)
            if method == "PUT"
            else None
        )
        if kept and method == "DELETE":  # deleting all tags leaves the platform's
            method, content = "PUT", json.dumps({"tags": kept}).encode()
    elif meta is not None and method in ("PUT", "POST"):
        content = await _metadata_body(request, up, meta)
    elif routed is not None and routed.remote_id is None:
        body = records.json_body(await request.body())
        batch = bulk.plan(routed=routed, body=body)
        if routed.kind == "server" and isinstance(body, dict):
            await run_in_threadpool(
                _default_network, request=request, caller=caller, up=up, body=body
            )
        if batch is not None:
            await run_in_threadpool(
                bulk.begin,
                sessions=sessions,
                actor=caller,
                settings=settings,
                pool=pool,
                batch=batch,
            )
        else:
            record = await run_in_threadpool(
                records.begin,
                sessions=sessions,
                actor=caller,
                settings=settings,
                pool=pool,
                routed=routed,
                body=body,
            )
            if record is not None and routed.kind == "server":  # begin found the server
                metadata.mark_create(
                    server=body["server"],
                    record_id=record.id,
                    with_tag=metadata.takes_tags(request.headers),
                )
        routing = record is not None or batch is not None
        content = json.dumps(body).encode() if routing else await request.body()
    else:
        # image data streams (``upload``); any other body goes whole: it is bounded
        # (max_body_bytes) and the pools' WSGI servers take no chunked JSON
        content = streamed
    if content is None:
        content = await request.body()
    headers = _request_headers(request, up.token)
    if method != request.method:
        headers["content-type"] = "application/json"
    answered = partial(
        settle.answered,
        request=request,
        caller=caller,
        up=up,
        routed=routed,
        record=record,
        batch=batch,
    )
    try:
        answer = await aio.send(
            pool=pool.name,
            method=method,
            url=url + (f"?{query}" if query else ""),
            headers=headers,
            # no Content-Length: 0 on a GET; an empty PUT (a tag) still says it has none
            content=content if content or method in ("POST", "PUT", "PATCH") else None,
        )
    except PoolUnreachable:
        await answered(status=None, raw=b"")
        raise
    headers = _response_headers(answer, pattern, facade)
    if routed is None and not _is_json(answer):
        return StreamingResponse(_relay(answer), status_code=answer.status, headers=headers)
    raw = await aio.read(answer, pool=pool.name)
    await answered(status=answer.status, raw=raw)
    if method != request.method and answer.status < 300:
        return Response(status_code=204)  # the DELETE the client sent
    if _is_json(answer):
        raw = _bytes(pattern.sub(facade, _text(marks.hide(raw, service=service))))
    return Response(raw, status_code=answer.status, headers=headers)


async def _current(request: Request, up: Upstream, path: str) -> Any:
    """The pool's JSON answer to ``GET path`` as the tenant; None unless it is a 200."""
    pool = up.where.pool.name
    answer = await aio.send(
        pool=pool,
        method="GET",
        url=f"{up.root}/{path}",
        headers=_request_headers(request, up.token),
    )
    raw = await aio.read(answer, pool=pool)
    return records.json_body(raw) if answer.status == 200 else None


async def _platform_tags(request: Request, up: Upstream, tagging: tags.TagRequest) -> list[str]:
    """The platform tags the object carries now (read as the tenant); [] if unreadable."""
    return tags.platform_tags(await _current(request, up, tagging.collection))


async def _metadata_body(
    request: Request, up: Upstream, meta: metadata.MetadataRequest
) -> bytes | None:
    """The body of a request that may change a server's metadata, rewritten so the mark
    stays (read from the pool first when the request replaces all metadata); None to
    send the client's body unchanged."""
    body = records.json_body(await request.body())
    method = request.method
    replaces = metadata.replaces(request=meta, method=method, body=body)
    kept = metadata.held(await _current(request, up, meta.collection)) if replaces else {}
    rewritten = metadata.rewriting(request=meta, method=method, body=body, kept=kept)
    return json.dumps(rewritten).encode() if rewritten is not None else None


def _default_network(
    *, request: Request, caller: Principal, up: Upstream, body: dict[str, Any]
) -> None:
    """A server asked without networks (or ``auto``) in a pool that gives tenants a
    default network gets it, as in ``POST /v1/servers``."""
    server = body.get("server")
    if not isinstance(server, dict) or server.get("networks") not in (None, "auto", []):
        return
    if not up.where.pool.default_network_cidr:
        return
    network_id = defaults.ensure_default_network(
        sessions=get_sessions(request),
        actor=caller,
        where=up.where,
        settings=get_app_settings(request),
    )
    server["networks"] = [{"uuid": network_id}]
