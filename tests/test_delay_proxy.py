"""The test helper that slows a pool down leaves nothing pending when it closes: an answer
still waiting out its delay used to be destroyed with the loop later, failing whatever test
ran then with an unraisable-exception error."""

from __future__ import annotations

import gc
import socket
import threading
import warnings
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.delay_proxy import DelayProxy


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the handler's API)
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _ask(port: int, timeout: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        return s.recv(4096)


def test_closing_with_an_answer_still_delayed_leaves_no_pending_task() -> None:
    upstream = HTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        with DelayProxy(upstream.server_port) as proxy:
            assert b"hello" in _ask(proxy.port, timeout=5)  # passes through
            proxy.delay = 30.0
            with pytest.raises(TimeoutError):
                _ask(proxy.port, timeout=0.5)  # its answer is still waiting when we close
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            gc.collect()
        assert proxy._loop.is_closed()
    finally:
        upstream.shutdown()


def test_a_lost_answer_reaches_the_upstream_and_never_the_client() -> None:
    upstream = HTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        with DelayProxy(upstream.server_port) as proxy:
            proxy.lose = b"GET / "
            assert _ask(proxy.port, timeout=5) == b""  # closed without an answer
            assert len(proxy.lost) == 1 and proxy.lost[0].endswith(b"hello")
            assert proxy.lose is None and b"hello" in _ask(proxy.port, timeout=5)  # once
    finally:
        upstream.shutdown()
