"""A tiny loopback HTTP proxy that answers late: a slow pool without touching the pool.

Each proxy forwards one request per connection to its upstream (the test bed's uwsgi APIs
close every connection: ``Connection: close``), waits ``delay`` seconds, then answers.
A pool's catalog points at the real Nova and Neutron ports, so delaying Keystone alone
would slow only token issues: the Keystone proxy therefore rewrites the catalog in its
answers (``rewrite``: real address -> proxy address), and the tenant's and admin's
sessions reach Nova and Neutron through their own delaying proxies.

A proxy can also lose one answer: the request whose first bytes are ``lose`` reaches the
upstream, which answers, and the client's connection is closed with no answer (a crash or
a network cut after the pool acted); the answer is kept in ``lost``.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Mapping

_LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)\r\n")


class DelayProxy:
    """``with DelayProxy(upstream_port) as proxy:`` listens on ``proxy.port`` (127.0.0.1)."""

    def __init__(self, upstream_port: int, *, rewrite: Mapping[bytes, bytes] | None = None):
        self.upstream_port = upstream_port
        self.rewrite = dict(rewrite or {})
        self.delay = 0.0
        #: the next request starting with these bytes is answered upstream, not here
        self.lose: bytes | None = None
        self.lost: list[bytes] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None

    @staticmethod
    async def _read_message(reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = _LENGTH.search(head)
        body = await reader.readexactly(int(length.group(1))) if length else b""
        return head + body

    def _rewritten(self, answer: bytes) -> bytes:
        head, _, body = answer.partition(b"\r\n\r\n")
        if b"chunked" in head.lower():
            raise ValueError("chunked answers are not rewritten")
        for old, new in self.rewrite.items():
            body = body.replace(old, new)
        head = _LENGTH.sub(b"Content-Length: %d\r\n" % len(body), head + b"\r\n") + b"\r\n"
        return head + body

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await self._read_message(reader)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            up_writer.write(request)
            await up_writer.drain()
            answer = await up_reader.read()  # upstream closes after one answer
            up_writer.close()
            if self.lose is not None and request.startswith(self.lose):
                self.lose = None
                self.lost.append(answer)
                return  # closed below without a word
            await asyncio.sleep(self.delay)
            writer.write(self._rewritten(answer) if self.rewrite else answer)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            # answers still waiting out their delay are cancelled and finished here: left
            # pending, they were destroyed with the loop later, in whatever test was running
            # then ("Task was destroyed but it is pending", an unraisable-exception error)
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()
