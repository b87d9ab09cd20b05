"""A node's live network state, read as JSON (``ip -j``, ``ovs-vsctl --format=json``).

``capture`` runs the read-only commands and returns a ``NodeState``; the same model
loads from a captured file, so the checker runs offline on fixtures:

- ``ip -j addr show``, ``ip -j route show`` (the host), ``ip -j netns list``
- per namespace: ``ip -n NS -j addr show``, ``ip -n NS -j route show``
- ``ovs-vsctl --format=json list Bridge|Port|Interface`` (decoded to names)
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from tenantfusion.dvr.errors import StateError

Runner = Callable[[list[str]], str]


class Link(BaseModel):
    """A network device with its addresses (one ``ip -j addr`` entry)."""

    ifname: str
    mtu: int | None = None
    operstate: str | None = None
    link_type: str | None = None
    addresses: list[str] = Field(default_factory=list)  # "203.0.113.5/24"


class Route(BaseModel):
    """One route (``ip -j route`` entry)."""

    dst: str
    dev: str | None = None
    gateway: str | None = None


class Namespace(BaseModel):
    """A network namespace's devices and routes."""

    name: str
    links: list[Link] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)

    def link(self, name: str) -> Link | None:
        """The device called ``name``."""
        return next((x for x in self.links if x.ifname == name), None)


class OvsInterface(BaseModel):
    """An OVS Interface row."""

    name: str
    type: str = ""
    options: dict[str, str] = Field(default_factory=dict)


class OvsBridge(BaseModel):
    """An OVS bridge with its ports' interfaces."""

    name: str
    datapath_type: str = ""
    fail_mode: str = ""
    ports: dict[str, list[OvsInterface]] = Field(default_factory=dict)


class NodeState(BaseModel):
    """Everything the checker reads about one node."""

    version: int = 1
    host: str
    host_ns: Namespace  # the default namespace ("" name)
    namespaces: list[Namespace] = Field(default_factory=list)
    bridges: list[OvsBridge] = Field(default_factory=list)

    def namespace(self, name: str) -> Namespace | None:
        """The namespace called ``name``."""
        return next((n for n in self.namespaces if n.name == name), None)

    def bridge(self, name: str) -> OvsBridge | None:
        """The OVS bridge called ``name``."""
        return next((b for b in self.bridges if b.name == name), None)


def links_from_ip(data: list[dict[str, Any]]) -> list[Link]:
    """Decode ``ip -j addr show`` output."""
    out = []
    for item in data:
        addrs = [
            f"{a['local']}/{a['prefixlen']}"
            for a in item.get("addr_info", [])
            if a.get("family") == "inet" and "local" in a
        ]
        out.append(
            Link(
                ifname=item["ifname"],
                mtu=item.get("mtu"),
                operstate=item.get("operstate"),
                link_type=item.get("link_type"),
                addresses=addrs,
            )
        )
    return out


def routes_from_ip(data: list[dict[str, Any]]) -> list[Route]:
    """Decode ``ip -j route show`` output."""
    return [Route(dst=r["dst"], dev=r.get("dev"), gateway=r.get("gateway")) for r in data]


def _ovs_value(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        kind, inner = value
        if kind == "set":
            return [_ovs_value(v) for v in inner]
        if kind == "map":
            return {str(k): str(_ovs_value(v)) for k, v in inner}
        if kind in ("uuid", "named-uuid"):
            return inner
    return value


def ovs_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Decode ``ovs-vsctl --format=json list TABLE`` into plain dicts."""
    heads = data.get("headings", [])
    return [{h: _ovs_value(v) for h, v in zip(heads, row, strict=False)} for row in data["data"]]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def bridges_from_ovs(
    *, bridges: dict[str, Any], ports: dict[str, Any], interfaces: dict[str, Any]
) -> list[OvsBridge]:
    """Join the Bridge, Port and Interface tables by uuid."""
    ifaces = {r["_uuid"]: r for r in ovs_rows(interfaces)}
    port_rows = {r["_uuid"]: r for r in ovs_rows(ports)}
    out = []
    for row in ovs_rows(bridges):
        bridge = OvsBridge(
            name=row["name"],
            datapath_type=str(row.get("datapath_type") or ""),
            fail_mode=str(_as_list(row.get("fail_mode") or [""])[0] or ""),
        )
        for port_id in _as_list(row.get("ports", [])):
            port = port_rows.get(port_id)
            if port is None:
                continue
            members = []
            for iface_id in _as_list(port.get("interfaces", [])):
                iface = ifaces.get(iface_id)
                if iface is not None:
                    options = iface.get("options") or {}
                    members.append(
                        OvsInterface(
                            name=iface["name"],
                            type=str(iface.get("type", "")),
                            options=options if isinstance(options, dict) else {},
                        )
                    )
            bridge.ports[port["name"]] = members
        bridge.ports = dict(sorted(bridge.ports.items()))
        out.append(bridge)
    return sorted(out, key=lambda b: b.name)


def _run(cmd: list[str]) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv of ip/ovs tools, never a shell
            cmd, capture_output=True, text=True, check=False, timeout=30
        )
    except FileNotFoundError as e:
        raise StateError(f"{cmd[0]} not found: install it or pass --state FILE") from e
    except subprocess.TimeoutExpired as e:
        raise StateError(f"'{' '.join(cmd)}' timed out") from e
    if done.returncode != 0:
        raise StateError(f"'{' '.join(cmd)}' failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _json(text: str, default: Any) -> Any:
    text = text.strip()
    if not text:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise StateError(f"unexpected command output (not JSON): {text[:60]!r}") from e


def capture(*, run: Runner = _run, host: str | None = None) -> NodeState:
    """Read the node's live state with ``ip`` and ``ovs-vsctl`` (read-only commands)."""

    def ns_state(name: str) -> Namespace:
        prefix = ["ip", "-n", name] if name else ["ip"]
        links = links_from_ip(_json(run([*prefix, "-j", "addr", "show"]), []))
        routes = routes_from_ip(_json(run([*prefix, "-j", "route", "show"]), []))
        return Namespace(name=name, links=links, routes=routes)

    names = sorted(n["name"] for n in _json(run(["ip", "-j", "netns", "list"]), []))
    tables = {
        t: _json(run(["ovs-vsctl", "--format=json", "list", t]), {"data": []})
        for t in ("Bridge", "Port", "Interface")
    }
    return NodeState(
        host=host or socket.gethostname(),
        host_ns=ns_state(""),
        namespaces=[ns_state(n) for n in names],
        bridges=bridges_from_ovs(
            bridges=tables["Bridge"], ports=tables["Port"], interfaces=tables["Interface"]
        ),
    )


def load_state(*, path: Path) -> NodeState:
    """Read a captured state file; raises StateError."""
    try:
        return NodeState.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise StateError(f"{path}: cannot read: {e.strerror}") from e
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StateError(f"{path}: not a captured state: {where}: {first['msg']}") from e


def save_state(*, state: NodeState, path: Path) -> None:
    """Write a state file (stable key order)."""
    path.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")
