"""Real OpenStack pools on loopback for tests, benchmarks and the demo.

``ensure_pools(count=2, kind="keystone")`` installs the pinned services into their own
venv (once), then starts or reuses each pool; ``stop_pools`` stops them by pid.
"""

from __future__ import annotations

import fcntl
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from tenantfusion.testbed import keystone
from tenantfusion.testbed.venv import ensure_venv

DEFAULT_ROOT = Path("var/testbed")
Kind = Literal["keystone"]


@dataclass(frozen=True)
class PoolInfo:
    """How to reach one test-bed pool as its admin."""

    name: str
    kind: str
    auth_url: str
    username: str
    password: str
    project_name: str
    user_domain_name: str
    project_domain_name: str
    region_name: str
    keystone_port: int


def pool_dir(root: Path, index: int) -> Path:
    return root.resolve() / f"pool{index}"


def _info(root: Path, index: int, kind: str) -> PoolInfo:
    return PoolInfo(
        name=f"pool{index}",
        kind=kind,
        auth_url=keystone.auth_url(index),
        username="admin",
        password=keystone.admin_password(pool_dir(root, index)),
        project_name="admin",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name=keystone.REGION,
        keystone_port=keystone.keystone_port(index),
    )


def _up(root: Path, venv: Path, index: int) -> None:
    keystone.setup(venv=venv, pool_dir=pool_dir(root, index), index=index)
    keystone.start(venv=venv, pool_dir=pool_dir(root, index), index=index)


def ensure_pools(
    *, count: int, kind: Kind = "keystone", root: Path = DEFAULT_ROOT
) -> list[PoolInfo]:
    """Start pools 1..count (reusing running ones) and return how to reach them.

    Holds an exclusive lock on the test bed, so parallel test workers start each pool once.
    """
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        venv = ensure_venv(root)
        with ThreadPoolExecutor(max_workers=count) as ex:
            list(ex.map(lambda i: _up(root, venv, i), range(1, count + 1)))
    pools = [_info(root, i, kind) for i in range(1, count + 1)]
    (root / "pools.json").write_text(json.dumps([asdict(p) for p in pools], indent=2))
    return pools


def stop_service(*, root: Path = DEFAULT_ROOT, index: int, service: str = "keystone") -> bool:
    """Stop one service of one pool (simulates a pool outage)."""
    if service != "keystone":
        raise ValueError(f"unknown service {service}")
    return keystone.stop_keystone(pool_dir(root, index))


def start_service(*, root: Path = DEFAULT_ROOT, index: int, service: str = "keystone") -> None:
    """Start one service of one pool again."""
    if service != "keystone":
        raise ValueError(f"unknown service {service}")
    keystone.start(venv=ensure_venv(root), pool_dir=pool_dir(root, index), index=index)


def stop_pools(*, root: Path = DEFAULT_ROOT) -> list[str]:
    """Stop every pool under ``root``; returns the names stopped."""
    stopped = []
    for path in sorted(root.resolve().glob("pool*")):
        if path.is_dir() and keystone.stop_keystone(path):
            stopped.append(path.name)
    return stopped


def status(*, root: Path = DEFAULT_ROOT) -> list[dict[str, object]]:
    """Each pool's services and whether they answer."""
    from tenantfusion.testbed.process import healthy

    out: list[dict[str, object]] = []
    for path in sorted(root.resolve().glob("pool*")):
        index = int(path.name.removeprefix("pool"))
        out.append(
            {
                "pool": path.name,
                "keystone": keystone.auth_url(index),
                "keystone_up": healthy(keystone.auth_url(index)),
            }
        )
    return out


__all__ = ["PoolInfo", "ensure_pools", "start_service", "status", "stop_pools", "stop_service"]
