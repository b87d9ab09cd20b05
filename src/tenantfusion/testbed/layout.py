"""Where the test bed keeps its venv, pools, pid files and logs (all under one root)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

#: First port of each service; pool i listens on base + i (i in 1..MAX_POOLS).
PORT_BASES: dict[str, int] = {
    "keystone": 5000,
    "nova": 8770,
    "placement": 8780,
    "glance": 9290,
    "neutron": 9690,
    # not Cinder's usual 8776: 8777..8785 would meet Placement's 8781.. (every base's
    # decade must differ from the others' at all offsets 0..300)
    "cinder": 8790,
}
MAX_POOLS = 9
HOST = "127.0.0.1"
#: Shifts every port, for a second test bed on the same machine (must be a multiple of 100).
PORT_OFFSET_ENV = "TENANTFUSION_TESTBED_PORT_OFFSET"
#: A test bed shared by several checkouts (git worktrees): every caller that names no root.
ROOT_ENV = "TENANTFUSION_TESTBED_ROOT"


def default_root() -> Path:
    """Return `$TENANTFUSION_TESTBED_ROOT`, else `<project>/var/testbed` (found from this
    file), else `./var/testbed`; always resolved (pid files are owned by exact path)."""
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).resolve()
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return (parent / "var" / "testbed").resolve()
    return (Path.cwd() / "var" / "testbed").resolve()


def service_port(service: str, index: int, offset: int = 0) -> int:
    """Return the loopback port of `service` in pool `index` (1-based)."""
    if not 1 <= index <= MAX_POOLS:
        raise ValueError(f"pool index must be 1..{MAX_POOLS}, got {index}")
    return PORT_BASES[service] + offset + index


@dataclass(frozen=True)
class Layout:
    """Paths of one test bed; everything lives below `root`."""

    root: Path
    port_offset: int = 0

    @classmethod
    def at(cls, root: Path | str | None = None, port_offset: int | None = None) -> Layout:
        """Build a layout at `root` (default: the project's `var/testbed`).

        The port offset is, in order: `port_offset`, the one saved in `<root>/testbed.json`
        by an earlier `save()`, `$TENANTFUSION_TESTBED_PORT_OFFSET`, 0.
        """
        path = Path(root).resolve() if root is not None else default_root()
        if port_offset is None:
            saved = path / "testbed.json"
            if saved.exists():
                port_offset = int(json.loads(saved.read_text())["port_offset"])
            else:
                port_offset = int(os.environ.get(PORT_OFFSET_ENV, "0"))
        if port_offset % 100 or port_offset < 0:
            raise ValueError(f"port offset must be a non-negative multiple of 100: {port_offset}")
        return cls(path, port_offset)

    def save(self) -> None:
        """Remember this layout's settings under the root."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "testbed.json").write_text(json.dumps({"port_offset": self.port_offset}))

    def port(self, service: str, index: int) -> int:
        """Loopback port of `service` in pool `index`."""
        return service_port(service, index, self.port_offset)

    @property
    def venv(self) -> Path:
        return self.root / "venv-openstack"

    def venv_bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    @property
    def pools_json(self) -> Path:
        return self.root / "pools.json"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    def pool_dir(self, index: int) -> Path:
        return self.root / f"pool-{index}"

    def existing_pool_indexes(self) -> list[int]:
        """Indexes of pools that have a folder under the root."""
        found = []
        for path in self.root.glob("pool-*"):
            suffix = path.name.removeprefix("pool-")
            if path.is_dir() and suffix.isdigit():
                found.append(int(suffix))
        return sorted(found)
