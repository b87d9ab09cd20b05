"""The least a Python pass-through can do, for ``bench_facade.py --floor``: uvicorn
(httptools, uvloop, as ``tenantfusion serve``) and one pure ASGI function that sends
each request to ``FLOOR_TARGET`` with aiohttp (as the facade does) and answers with what
came back, with the same ``Server-Timing: pool;dur=`` as tenantfusion. No
authentication, routing, token swap, rewriting or middleware: what it adds over a direct
call is the cost of one more hop on this machine, which no facade in Python can go below.

    FLOOR_TARGET=http://127.0.0.1:8771 .venv/bin/python bench/floor_proxy.py PORT
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import aiohttp
import uvicorn

TARGET = os.environ.get("FLOOR_TARGET", "")
_client: aiohttp.ClientSession | None = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _client
    if scope["type"] != "http":
        return
    if _client is None:
        _client = aiohttp.ClientSession(
            auto_decompress=False, skip_auto_headers=("Accept-Encoding", "User-Agent")
        )
    headers = {
        k.decode(): v.decode()
        for k, v in scope["headers"]
        if k in (b"x-auth-token", b"accept", b"openstack-api-version")
    }
    query = scope["query_string"].decode()
    url = TARGET + scope["path"] + (f"?{query}" if query else "")
    sent = time.perf_counter()
    async with _client.request(scope["method"], url, headers=headers) as answer:
        waited = time.perf_counter() - sent  # as tenantfusion's Server-Timing counts it
        body = await answer.read()
        kept = [
            (k.encode(), v.encode())
            for k, v in answer.headers.items()
            if k.lower() not in ("content-length", "connection", "transfer-encoding")
        ]
        kept.append((b"server-timing", f"pool;dur={waited * 1000:.3f}".encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": kept})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        http="httptools",
        loop="uvloop",
        log_level="warning",
        access_log=False,
    )
