"""The CLI where no tenantfusion API answers: exit codes 2, 3, 4, one-line errors, a
foreign HTTP server, the saved login file, and shell completion through the real entry
point."""

from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.conftest import Cli, free_port

EXE = str(Path(sys.executable).parent / "tenantfusion")


@pytest.fixture
def nowhere(tmp_path: Path) -> Cli:
    """A CLI pointed at a loopback port nobody listens on."""
    return Cli(url=f"http://127.0.0.1:{free_port()}", config_dir=tmp_path / "cfg")


def test_no_login_is_exit_4_in_one_line(nowhere: Cli) -> None:
    for args in (["servers", "list"], ["whoami"], ["jobs", "wait", "x"], ["tenants", "show", "x"]):
        r = nowhere(*args, code=4)
        assert r.stderr == "error: not logged in: run `tenantfusion login`\n" and r.stdout == ""


def test_unreadable_saved_login_means_logged_out(nowhere: Cli) -> None:
    nowhere.config_dir.mkdir()
    (nowhere.config_dir / "login.json").write_text("{not json")
    assert nowhere("pools", "list", code=4).stderr.startswith("error: not logged in")
    nowhere("logout")  # nothing to revoke: still succeeds


def test_server_not_running_is_exit_3(nowhere: Cli) -> None:
    r = nowhere("login", "-u", "root", "--password-stdin", input="secret-pw\n", code=3)
    assert re.fullmatch(r"error: cannot reach http://127\.0\.0\.1:\d+ \(ConnectError\)\n", r.stderr)
    assert "secret-pw" not in r.output
    assert not nowhere.saved().exists()


def test_usage_errors_are_exit_2(nowhere: Cli) -> None:
    bad_url = nowhere("pools", "list", "--url", "ftp:x", code=2).output
    assert "Invalid value for '--url'" in bad_url and "https:// URL" in bad_url
    nowhere("servers", "list", "--limit", "0", code=2)
    nowhere("jobs", "list", "--limit", "501", code=2)
    nowhere("pools", "list", "--status", "ok", code=2)  # pools list takes no filters
    nowhere("servers", "reboot", code=2)  # missing id
    nowhere("routers", "add-interface", "r1", code=2)  # missing --subnet
    nowhere("servers", "create", "x", "--flavor", "f", "--image", "i", "--selector", "a", code=2)


@pytest.fixture
def foreign(tmp_path: Path) -> Iterator[str]:
    """A plain static HTTP server on loopback: answers, but is not a tenantfusion API."""
    root = tmp_path / "www"
    (root / "v1" / "auth").mkdir(parents=True)
    (root / "v1" / "auth" / "tokens").write_text("<html>hello</html>")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_foreign_server_is_one_line_exit_1(foreign: str, tmp_path: Path) -> None:
    cli = Cli(url=foreign, config_dir=tmp_path / "cfg")
    r = cli("login", "-u", "root", "--password-stdin", input="pw\n", code=1)  # POST: 501
    assert re.fullmatch(
        r"error: .+: not a problem\+json answer \(text/html.*\) \(about:blank, HTTP 501\)\n",
        r.stderr,
    )
    cli.config_dir.mkdir()
    (cli.config_dir / "login.json").write_text(f'{{"url": "{foreign}", "token": "t"}}')
    r = cli("whoami", code=1)  # GET /v1/auth/tokens: 200 with HTML
    assert r.stderr.startswith("error: ") and "other than JSON" in r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_help_documents_exit_codes() -> None:
    out = subprocess.run([EXE, "--help"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(out.split())
    assert "Exit codes: 0 ok; 1 the API refused" in flat and "5 --wait ended" in flat
    assert "--install-completion" in out and "--show-completion" in out


def test_shell_completion_through_the_entry_point() -> None:
    script = subprocess.run(
        [EXE, "--show-completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    assert "_tenantfusion_completion" in script and "complete " in script
    env = {**os.environ, "_TENANTFUSION_COMPLETE": "complete_bash", "COMP_CWORD": "2"}
    env["COMP_WORDS"] = "tenantfusion routers "
    words = subprocess.run([EXE], env=env, capture_output=True, text=True).stdout.split()
    assert {"add-interface", "set-gateway", "list"} <= set(words)
    env["COMP_WORDS"], env["COMP_CWORD"] = "tenantfusion floa", "1"
    assert subprocess.run([EXE], env=env, capture_output=True, text=True).stdout.split() == [
        "floating-ips"
    ]
