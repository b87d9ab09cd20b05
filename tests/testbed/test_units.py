"""Test-bed plumbing that needs no OpenStack: ports, layout, ini files, pid files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tenantfusion.testbed.ini import render
from tenantfusion.testbed.layout import (
    MAX_POOLS,
    PORT_BASES,
    Layout,
    default_root,
    service_port,
)
from tenantfusion.testbed.pool import PoolInfo, read_pools_json, write_pools_json
from tenantfusion.testbed.process import Daemon, running_pid, start, stop_pidfile


def test_ports_follow_the_notes() -> None:
    assert [service_port(s, 1) for s in ("keystone", "nova", "placement", "glance", "neutron")] == [
        5001,
        8771,
        8781,
        9291,
        9691,
    ]
    assert service_port("keystone", 2, offset=100) == 5102
    with pytest.raises(ValueError):
        service_port("keystone", 10)


def test_no_two_services_share_a_port_at_any_pool_or_offset() -> None:
    taken: dict[int, tuple[str, int, int]] = {}
    for service in PORT_BASES:
        for offset in (0, 100, 200, 300):
            for index in range(1, MAX_POOLS + 1):
                port = service_port(service, index, offset)
                assert port not in taken, (port, (service, index, offset), taken[port])
                taken[port] = (service, index, offset)
    assert service_port("cinder", 1) == 8791


def test_layout_port_offset_is_saved(tmp_path: Path) -> None:
    Layout.at(tmp_path, port_offset=200).save()
    assert Layout.at(tmp_path).port("nova", 3) == 8973
    with pytest.raises(ValueError):
        Layout.at(tmp_path, port_offset=150)


def test_default_root_is_the_shared_bed_and_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worktree reaching the shared bed through a symlink must see the pid files' own
    paths (ownership is checked by exact path; a mismatch deletes them as stale)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (tmp_path / "link").symlink_to(shared)
    monkeypatch.setenv("TENANTFUSION_TESTBED_ROOT", str(tmp_path / "link"))
    assert default_root() == shared
    assert Layout.at().root == shared
    monkeypatch.delenv("TENANTFUSION_TESTBED_ROOT")
    assert default_root().name == "testbed" and default_root() == default_root().resolve()


def test_render_ini() -> None:
    text = render({"DEFAULT": {"debug": False, "workers": 2}, "db": {"url": "x"}})
    assert text == "[DEFAULT]\ndebug = false\nworkers = 2\n\n[db]\nurl = x\n"


def test_pools_json_round_trip(tmp_path: Path) -> None:
    pool = PoolInfo(
        name="pool1",
        index=1,
        kind="keystone",
        auth_url="http://127.0.0.1:5001/v3",
        username="admin",
        password="secret",
        ports={"keystone": 5001},
    )
    write_pools_json(tmp_path / "pools.json", [pool])
    assert read_pools_json(tmp_path / "pools.json") == [pool]
    assert (tmp_path / "pools.json").stat().st_mode & 0o777 == 0o600


def test_daemon_pid_file_lifecycle(tmp_path: Path) -> None:
    pidfile = tmp_path / "sleeper.pid"
    daemon = Daemon(
        name="sleeper",
        command=[sys.executable, "-c", "import time; time.sleep(60)"],
        pidfile=pidfile,
        logfile=tmp_path / "sleeper.log",
    )
    start(daemon, Path(sys.prefix))
    pid = running_pid(pidfile)
    assert pid is not None
    assert stop_pidfile(pidfile, timeout=10) is True
    assert running_pid(pidfile) is None and not pidfile.exists()


def test_stale_or_foreign_pid_file_is_ignored(tmp_path: Path) -> None:
    pidfile = tmp_path / "x.pid"
    pidfile.write_text("1\n")  # init: alive, but not ours
    assert running_pid(pidfile) is None
    assert not pidfile.exists()
    assert stop_pidfile(pidfile) is False


def test_catalog_marker_of_a_pool_set_up_before_cinder_registers_again(tmp_path: Path) -> None:
    from tenantfusion.testbed import catalog
    from tenantfusion.testbed.context import PoolContext

    ctx = PoolContext.create(Layout.at(tmp_path, port_offset=0), 1)
    assert not catalog.is_registered(ctx)
    (ctx.dir / catalog.MARKER).write_text("ok\n")  # what earlier releases wrote
    assert not catalog.is_registered(ctx)
    (ctx.dir / catalog.MARKER).write_text(" ".join(sorted(catalog.SERVICES)) + "\n")
    assert catalog.is_registered(ctx) and "cinder" in catalog.SERVICES


def test_rabbit_user_whose_password_starts_with_a_dash_is_made(tmp_path: Path) -> None:
    """token_urlsafe gives a leading "-" once in 64 secrets; rabbitmqctl took it for an
    option (exit 64) and the bed failed to come up. Real RabbitMQ on the machine."""
    import subprocess

    from tenantfusion.testbed import backing
    from tenantfusion.testbed.context import PoolContext

    ctx = PoolContext.create(Layout.at(tmp_path, port_offset=900), 1)
    ctx.secrets["rabbit_password"] = "-starts-with-a-dash"
    try:
        backing.ensure_vhost(ctx)
        users = subprocess.run(
            ["rabbitmqctl", "--quiet", "list_users"], capture_output=True, text=True, check=True
        ).stdout
        assert ctx.slug in users
        check = subprocess.run(
            ["rabbitmqctl", "--quiet", "authenticate_user", "--", ctx.slug, "-starts-with-a-dash"],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
    finally:
        backing.delete_vhost(ctx)
