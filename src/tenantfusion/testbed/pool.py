"""`PoolInfo`: what a test or the demo needs to reach one test-bed pool as admin."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("keystone", "full")


@dataclass(frozen=True)
class PoolInfo:
    """Admin credentials and service ports of one local pool (test bed only)."""

    name: str
    index: int
    kind: str
    auth_url: str
    username: str
    password: str
    project_name: str = "admin"
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    region_name: str = "RegionOne"
    ports: Mapping[str, int] = field(default_factory=dict)

    def auth(self) -> dict[str, str]:
        """The `auth` dict for openstacksdk / keystoneauth1 password auth."""
        return {
            "auth_url": self.auth_url,
            "username": self.username,
            "password": self.password,
            "project_name": self.project_name,
            "user_domain_name": self.user_domain_name,
            "project_domain_name": self.project_domain_name,
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ports"] = dict(self.ports)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PoolInfo:
        return cls(**{**data, "ports": dict(data.get("ports", {}))})


def write_pools_json(path: Path, pools: list[PoolInfo]) -> None:
    """Write `pools` as JSON (mode 0600: it holds admin passwords of the test bed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump([p.to_dict() for p in pools], f, indent=2)
        f.write("\n")


def read_pools_json(path: Path) -> list[PoolInfo]:
    """Read pools written by `write_pools_json` (empty list when missing)."""
    if not path.exists():
        return []
    return [PoolInfo.from_dict(item) for item in json.loads(path.read_text())]
