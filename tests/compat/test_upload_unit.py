"""Image data streamed through the facade (``compat.upload``, ``pools.aio.Upload`` and the
guard's pass), on an event loop against loopback stand-ins for Glance: an aiohttp server
that counts what it gets, and raw sockets that hang up or stop reading midway."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope

from tenantfusion.compat import upload
from tenantfusion.errors import BodyTooLarge, InvalidInput, PoolUnreachable
from tenantfusion.guard import GuardMiddleware
from tenantfusion.pools import aio, breaker

DATA_PATH = "/image/east/v2/images/0b7c/file"
OCTETS = [(b"content-type", b"application/octet-stream")]
KIB = 1024


@dataclass
class Sink:
    url: str
    headers: list[dict[str, str]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)


@asynccontextmanager
async def glance_sink() -> AsyncIterator[Sink]:
    """A stand-in for Glance's data path: counts and hashes a PUT's body as it comes
    (keeps none of it), answers 204."""
    sink = Sink(url="")

    async def take(request: web.Request) -> web.Response:
        digest, size = hashlib.sha256(), 0
        try:
            async for chunk in request.content.iter_any():
                digest.update(chunk)
                size += len(chunk)
        except ConnectionResetError:  # the body was cut off: no whole body to count
            return web.Response(status=400)
        sink.headers.append(dict(request.headers))
        sink.sizes.append(size)
        sink.digests.append(digest.hexdigest())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_put("/{tail:.*}", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sink.url = f"http://127.0.0.1:{port}/v2/images/0b7c/file"
    try:
        yield sink
    finally:
        await runner.cleanup()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_pool(handler: Handler) -> AsyncIterator[str]:
    """A loopback socket server running ``handler`` per connection; yields its URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v2/images/0b7c/file"
    finally:
        server.close()


async def hang_up_after(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A pool that goes away 64 KiB into the body."""
    await reader.readuntil(b"\r\n\r\n")
    await reader.readexactly(64 * KIB)
    writer.transport.abort()


async def stop_reading(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A pool that takes the headers and then nothing more (frozen)."""
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(60)


async def pieces(count: int, size: int = 64 * KIB, pause: float = 0.0) -> AsyncIterator[bytes]:
    for _ in range(count):
        if pause:
            await asyncio.sleep(pause)
        yield bytes(size)


def run(main: Callable[[], Awaitable[Any]], *, timeout: float = 0.0) -> Any:
    """``main()`` on a new event loop with its own ``aio`` session (closed after)."""

    async def wrapped() -> Any:
        if timeout:
            aio.configure(timeout_seconds=timeout)
        try:
            return await main()
        finally:
            await aio.close()
            aio.configure(timeout_seconds=10.0)

    return asyncio.run(wrapped())


@pytest.fixture
def pool() -> Iterable[str]:
    name = f"upload-{os.urandom(3).hex()}"
    yield name
    breaker.reset(name)


def failures(pool: str) -> int:
    return breaker._states[pool].failures if pool in breaker._states else 0


# which requests stream


@pytest.mark.parametrize(
    ("method", "path", "headers", "streamed"),
    [
        ("PUT", DATA_PATH, OCTETS, True),
        ("PUT", "/image/west/v2/images/0b7c/stage", OCTETS, True),
        ("PUT", DATA_PATH, [], True),
        ("PUT", DATA_PATH, [(b"content-type", b"application/json")], False),
        ("POST", DATA_PATH, OCTETS, False),
        ("PUT", f"{DATA_PATH}/more", OCTETS, False),
        ("PUT", "/image/east/v2/images/0b7c", OCTETS, False),
        ("PUT", "/compute/east/v2/images/0b7c/file", OCTETS, False),
        ("PUT", "/v1/image/east/v2/images/0b7c/file", OCTETS, False),
    ],
)
def test_streams_only_image_data(
    method: str, path: str, headers: list[tuple[bytes, bytes]], streamed: bool
) -> None:
    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    assert upload.streams(scope) is streamed


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


def receive_of(bodies: Iterable[bytes], *, then_disconnect: bool = False) -> Receive:
    """ASGI ``receive`` handing out ``bodies`` one message each, made as they are asked."""
    items = iter(bodies)
    ahead = next(items, None)

    async def receive() -> Message:
        nonlocal ahead
        if ahead is None:
            return {"type": "http.disconnect"}
        body, ahead = ahead, next(items, None)
        more = ahead is not None or then_disconnect
        return {"type": "http.request", "body": body, "more_body": more}

    return receive


async def call(app: Any, scope: Scope, receive: Receive) -> tuple[int, bytes]:
    answer: dict[str, Any] = {"status": 0, "body": b""}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["body"]


def test_guard_passes_image_data_unread_and_limits_the_rest() -> None:
    seen: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Any) -> None:
        while True:
            message = await receive()
            seen.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guard = GuardMiddleware(app, max_body_bytes=KIB, max_json_depth=8, streamed=upload.streams)
    length = [(b"content-length", b"16384"), *OCTETS]
    status, _ = asyncio.run(
        call(guard, http_scope(DATA_PATH, length), receive_of([bytes(4 * KIB)] * 4))
    )
    assert status == 204 and seen == [4 * KIB] * 4  # as they came: never joined
    seen.clear()
    as_json = [(b"content-length", b"16384"), (b"content-type", b"application/json")]
    status, body = asyncio.run(
        call(guard, http_scope(DATA_PATH, as_json), receive_of([bytes(4 * KIB)] * 4))
    )
    assert status == 413 and b"body-too-large" in body and seen == []


# the body on its way to the pool


def test_the_body_goes_with_its_length_or_chunked(pool: str) -> None:
    async def main() -> None:
        async with glance_sink() as sink:
            for length in (20 * 64 * KIB, None):
                body = aio.Upload(pieces(20), length=length)
                answer = await aio.send(
                    pool=pool, method="PUT", url=sink.url, headers={}, content=body
                )
                await aio.read(answer, pool=pool)
                assert answer.status == 204
        assert sink.sizes == [20 * 64 * KIB] * 2
        assert sink.digests == [hashlib.sha256(bytes(20 * 64 * KIB)).hexdigest()] * 2
        first, second = sink.headers
        assert first["Content-Length"] == str(20 * 64 * KIB) and "Transfer-Encoding" not in first
        assert second["Transfer-Encoding"] == "chunked" and "Content-Length" not in second

    run(main)


def request_of(headers: list[tuple[bytes, bytes]], receive: Receive) -> Request:
    return Request(http_scope(DATA_PATH, headers), receive)


def test_a_length_over_the_limit_is_refused_before_any_byte() -> None:
    asked: list[int] = []

    async def receive() -> Message:
        asked.append(1)
        return {"type": "http.request", "body": b"", "more_body": False}

    request = request_of([(b"content-length", str(MIB + 1).encode()), *OCTETS], receive)
    with pytest.raises(BodyTooLarge, match=f"{MIB + 1} bytes exceeds the limit of {MIB}"):
        upload.body(request, limit=MIB)
    with pytest.raises(InvalidInput, match="Content-Length"):
        upload.body(request_of([(b"content-length", b"-1")], receive), limit=MIB)
    assert asked == []


MIB = 1024 * KIB


def caller_side_failure(pool: str, receive: Receive) -> BaseException:
    """What ``send`` raises for an upload (chunked, limit 256 KiB) read from ``receive``."""

    async def main() -> BaseException:
        async with glance_sink() as sink:
            body = upload.body(request_of(OCTETS, receive), limit=256 * KIB)
            with pytest.raises(Exception) as caught:
                await aio.send(pool=pool, method="PUT", url=sink.url, headers={}, content=body)
            assert sink.sizes == []  # the pool never got a whole body
            return caught.value

    failure: BaseException = run(main)
    return failure


def test_a_body_past_the_limit_or_broken_off_is_the_callers_failure(
    pool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(breaker, "OPEN_SECONDS", 0.05)
    for _ in range(breaker.FAILURES_TO_OPEN):
        breaker.after_call(pool, failed=True)
    time.sleep(0.06)  # the next call is the half-open trial
    grown = caller_side_failure(pool, receive_of([bytes(64 * KIB)] * 5))
    assert isinstance(grown, BodyTooLarge) and str(256 * KIB) in str(grown)
    broken = caller_side_failure(pool, receive_of([bytes(64 * KIB)] * 2, then_disconnect=True))
    assert isinstance(broken, InvalidInput) and "after 131072 bytes" in str(broken)
    # neither counts against the pool, and neither keeps the trial from the next call
    assert failures(pool) == breaker.FAILURES_TO_OPEN
    breaker.before_call(pool)


def test_a_pool_going_away_midway_is_unreachable(pool: str) -> None:
    async def main() -> None:
        async with raw_pool(hang_up_after) as url:
            body = aio.Upload(pieces(256), length=256 * 64 * KIB)
            with pytest.raises(PoolUnreachable, match="did not answer"):
                await aio.send(pool=pool, method="PUT", url=url, headers={}, content=body)
        assert body.failure is None

    run(main)
    assert failures(pool) == 1


def test_a_pool_taking_no_more_is_unreachable_after_the_timeout(pool: str) -> None:
    async def main() -> float:
        async with raw_pool(stop_reading) as url:
            body = aio.Upload(pieces(4096), length=4096 * 64 * KIB)  # more than any buffer
            started = time.monotonic()
            with pytest.raises(PoolUnreachable):
                await aio.send(pool=pool, method="PUT", url=url, headers={}, content=body)
            return time.monotonic() - started

    took: float = run(main, timeout=0.5)
    assert 0.5 <= took < 5
    assert failures(pool) == 1


def test_a_slow_client_is_neither_a_stalled_nor_a_slow_pool(
    pool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(breaker, "SLOW_SECONDS", 0.5)

    async def main() -> None:
        async with glance_sink() as sink:
            body = aio.Upload(pieces(4, pause=0.3), length=4 * 64 * KIB)  # 1.2 s in all
            answer = await aio.send(pool=pool, method="PUT", url=sink.url, headers={}, content=body)
            await aio.read(answer, pool=pool)
        assert answer.status == 204 and sink.sizes == [4 * 64 * KIB]

    run(main, timeout=0.2)
    assert failures(pool) == 0


# memory


def test_a_large_upload_is_never_held_whole(pool: str) -> None:
    """64 MiB through the guard, ``upload.body`` and ``aio.send`` to a pool: Python's
    allocations peak at a few chunks' worth, not at the body."""
    size, chunk = 64 * MIB, 64 * KIB

    async def forward(request: Request) -> Response:
        body = upload.body(request, limit=size)
        answer = await aio.send(pool=pool, method="PUT", url=sink_url, headers={}, content=body)
        return Response(await aio.read(answer, pool=pool), status_code=answer.status)

    app = GuardMiddleware(
        Starlette(routes=[Route("/image/{region}/v2/images/{id}/file", forward, methods=["PUT"])]),
        max_body_bytes=KIB,
        max_json_depth=8,
        streamed=upload.streams,
    )
    sink_url = ""

    async def main() -> tuple[int, Sink, int]:
        nonlocal sink_url
        async with glance_sink() as sink:
            sink_url = sink.url
            headers = [(b"content-length", str(size).encode()), *OCTETS]
            bodies = (bytes(chunk) for _ in range(size // chunk))  # made as asked
            tracemalloc.start()
            try:
                status, _ = await call(app, http_scope(DATA_PATH, headers), receive_of(bodies))
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            return status, sink, peak

    status, sink, peak = run(main)
    assert status == 204 and sink.sizes == [size]
    assert sink.headers[0]["Content-Length"] == str(size)
    print(f"peak {peak / KIB:.0f} KiB for a {size // MIB} MiB body")
    assert peak < 4 * MIB, f"peak {peak / MIB:.1f} MiB for a {size // MIB} MiB body"
