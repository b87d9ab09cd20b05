"""Inventory of a DevStack DVR deployment (YAML, validated with pydantic).

The inventory holds configuration data only; passwords are references (``env:NAME``),
never literal secrets. ``load_inventory`` raises ``InventoryError`` with one message per
problem, each naming the field (``nodes[1].tunnel_ip``) and, when known, its YAML line.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tenantfusion.dvr.errors import InventoryError

Role = Literal["network", "compute"]
DvrMode = Literal["dvr_snat", "dvr", "dvr_no_external"]

ENV_REF = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
IFACE_NAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")
HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
BRANCH = re.compile(r"^(master|(stable|unmaintained)/[a-z0-9.]+|[0-9]{4}\.[12])$")

#: Default DVR mode of each role (lib/neutron: dvr_snat = network node, dvr = compute).
DEFAULT_MODE: dict[str, DvrMode] = {"network": "dvr_snat", "compute": "dvr"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Model):
    """A password given by reference: ``env:NAME`` names an environment variable."""

    ref: str

    @property
    def env_name(self) -> str:
        """The environment variable that holds the secret."""
        match = ENV_REF.match(self.ref)
        assert match is not None  # noqa: S101 - is_env_ref() matched it already
        return match.group(1)


class Passwords(_Model):
    """DevStack's four passwords, each a reference ``env:NAME``."""

    admin: str
    database: str
    rabbit: str
    service: str

    @field_validator("admin", "database", "rabbit", "service")
    @classmethod
    def _is_reference(cls, value: str) -> str:
        if not ENV_REF.match(value):
            raise ValueError("must be a reference env:NAME (no literal secrets in the inventory)")
        return value

    def env_names(self) -> dict[str, str]:
        """Map DevStack's variable name to the environment variable holding its value."""
        refs = {
            "ADMIN_PASSWORD": self.admin,
            "DATABASE_PASSWORD": self.database,
            "RABBIT_PASSWORD": self.rabbit,
            "SERVICE_PASSWORD": self.service,
        }
        return {var: SecretRef(ref=ref).env_name for var, ref in refs.items()}


class FloatingPool(_Model):
    """Allocation pool of the external (floating) subnet."""

    start: IPv4Address
    end: IPv4Address


class NetworkSpec(_Model):
    """Deployment-wide network settings."""

    tenant_network_type: Literal["vxlan"] = "vxlan"
    fixed_range: IPv4Network
    floating_range: IPv4Network
    floating_pool: FloatingPool
    public_gateway: IPv4Address
    underlay_mtu: int = Field(default=1500, ge=576, le=9216)
    tenant_mtu: int = Field(default=1500, ge=576, le=9216)
    public_physical_network: str = Field(default="public", pattern=r"^[A-Za-z0-9_-]+$")
    #: Capacity planning (R17): routers with a gateway and floating IPs expected in use.
    expected_routers: int = Field(default=1, ge=0)
    expected_floating_ips: int = Field(default=0, ge=0)

    @field_validator("tenant_network_type", mode="before")
    @classmethod
    def _vxlan_only(cls, value: Any) -> Any:
        if value != "vxlan":
            raise ValueError("must be vxlan: DevStack configures DVR with vxlan tunnels only (R5)")
        return value


class Node(_Model):
    """One DevStack host."""

    name: str = Field(pattern=HOST_NAME.pattern)
    role: Role
    management_ip: IPv4Address
    tunnel_ip: IPv4Address
    external_interface: str | None = Field(default=None, pattern=IFACE_NAME.pattern)
    external_ip: IPv4Address | None = None
    mtu: int | None = Field(default=None, ge=576, le=9216)
    dvr_mode: DvrMode | None = None

    @property
    def mode(self) -> DvrMode:
        """The node's Q_DVR_MODE (explicit, or the role's default)."""
        return self.dvr_mode or DEFAULT_MODE[self.role]

    @property
    def needs_br_ex(self) -> bool:
        """Whether the node needs br-ex with an external port (R10)."""
        return self.mode in ("dvr_snat", "dvr")


class Inventory(_Model):
    """A DVR deployment: one network node and compute nodes."""

    devstack_branch: str = Field(default="master", pattern=BRANCH.pattern)
    passwords: Passwords
    network: NetworkSpec
    nodes: list[Node] = Field(min_length=1)

    @field_validator("nodes")
    @classmethod
    def _unique_names(cls, nodes: list[Node]) -> list[Node]:
        seen: set[str] = set()
        for node in nodes:
            if node.name in seen:
                raise ValueError(f"node name {node.name!r} is used twice (names must be unique)")
            seen.add(node.name)
        return nodes

    def node(self, name: str) -> Node:
        """The node called ``name``; raises KeyError."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    @property
    def controller(self) -> Node | None:
        """The (first) network node: it runs q-svc and the control plane."""
        return next((n for n in self.nodes if n.role == "network"), None)


def field_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location as ``nodes[1].tunnel_ip``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def yaml_lines(text: str) -> dict[str, int]:
    """Map each field path of a YAML document to its 1-based line."""
    lines: dict[str, int] = {}

    def walk(node: yaml.Node, path: str) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = f"{path}.{key.value}" if path else str(key.value)
                lines[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{path}[{i}]")

    root = yaml.compose(text)
    if root is not None:
        walk(root, "")
    return lines


def _line_of(lines: dict[str, int], path: str) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        shorter = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", path)
        if shorter == path:
            return None
        path = shorter
    return None


def parse_inventory(*, text: str, path: str = "inventory.yaml") -> tuple[Inventory, dict[str, int]]:
    """Parse and validate inventory text; return it with its field → line map."""
    try:
        data = yaml.safe_load(text)
        lines = yaml_lines(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise InventoryError(path=path, problems=[f"{where}invalid YAML: {problem}"]) from e
    if not isinstance(data, dict):
        raise InventoryError(path=path, problems=["(top level): must be a mapping"])
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = field_path(tuple(err["loc"]))
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            line = _line_of(lines, loc)
            problems.append(f"{loc}" + (f" (line {line})" if line else "") + f": {msg}")
        raise InventoryError(path=path, problems=problems) from e
    return inventory, lines


def load_inventory(*, path: Path) -> tuple[Inventory, dict[str, int]]:
    """Read and validate an inventory file; raises InventoryError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InventoryError(path=str(path), problems=[f"cannot read: {e.strerror}"]) from e
    return parse_inventory(text=text, path=str(path))
