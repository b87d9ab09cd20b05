"""Rule, Finding, Deployment and the registry every rule module fills."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Literal

from tenantfusion.dvr.nodeconf import NodeConfig, Setting, Src, ip_or_none, net_or_none

Scope = Literal["config", "live", "api"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem: the rule, the node, where (file and line, or field), and the fix."""

    rule: str
    node: str
    message: str
    fix: str
    file: str = ""
    line: int | None = None
    field: str | None = None
    severity: Severity = "error"

    @classmethod
    def at(
        cls,
        rule: str,
        node: str,
        src: Src,
        message: str,
        fix: str,
        *,
        severity: Severity = "error",
    ) -> Finding:
        """A finding located at ``src``.

        ``error``: DevStack fails, Neutron refuses the option, or the deployment cannot
        route as DVR. ``warning``: redundant, ignored, deprecated, or uncertain.
        """
        return cls(rule, node, message, fix, src.file, src.line, src.field, severity)

    @property
    def is_error(self) -> bool:
        """Whether this finding fails validation without --strict."""
        return self.severity == "error"

    def sort_key(self) -> tuple[str, int, str, int, str]:
        """Stable order: node, rule number, file, line, message."""
        num = int("".join(c for c in self.rule if c.isdigit()) or 0)
        order = num if self.rule.startswith("R") else 100 + num
        return (self.node, order, self.file, self.line or 0, self.message)


@dataclass
class Deployment:
    """All nodes of one deployment and the deployment-wide expectations."""

    nodes: list[NodeConfig]
    expected_routers: int = 1  # DevStack creates one router (Q_ROUTER_NAME) with a gateway
    expected_floating_ips: int = 0
    tenant_mtu: int | None = None
    node_mtus: dict[str, Setting] = field(default_factory=dict)

    @property
    def controller(self) -> NodeConfig | None:
        """The node that creates the initial networks: the one running q-svc (a network
        node first), else the first network node."""
        servers = [n for n in self.nodes if n.has("q-svc", "neutron-api")]
        for node in servers:
            if node.role == "network":
                return node
        if servers:
            return servers[0]
        return next((n for n in self.nodes if n.role == "network"), None)

    def setting(self, name: str) -> Setting | None:
        """A deployment-wide variable: the controller's, else the first node that sets it."""
        ctrl = self.controller
        if ctrl is not None and name in ctrl.vars:
            return ctrl.vars[name]
        for node in self.nodes:
            if name in node.vars:
                return node.vars[name]
        if ctrl is not None and ctrl.get(name):
            return Setting(ctrl.get(name), Src(ctrl.file))
        return None

    def network(self, name: str) -> tuple[IPv4Network, Src] | None:
        """A deployment-wide network variable, parsed."""
        setting = self.setting(name)
        if setting is None:
            return None
        net = net_or_none(setting.value)
        return (net, setting.src) if net else None

    def pool(self) -> tuple[IPv4Address, IPv4Address, Src] | None:
        """Q_FLOATING_ALLOCATION_POOL (``start=A,end=B``), parsed."""
        setting = self.setting("Q_FLOATING_ALLOCATION_POOL")
        if setting is None:
            return None
        parts = dict(p.split("=", 1) for p in setting.value.split(",") if "=" in p)
        start, end = ip_or_none(parts.get("start", "")), ip_or_none(parts.get("end", ""))
        if start is None or end is None:
            return None
        return start, end, setting.src


Check = Callable[[Deployment], list[Finding]]


@dataclass(frozen=True)
class Rule:
    """A rule: id, what it checks, the source it was verified against, and its check."""

    id: str
    title: str
    source: str
    scope: Scope
    check: Check | None = None


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str, *, title: str, source: str, scope: Scope = "config"
) -> Callable[[Check], Check]:
    """Register a check function under ``rule_id``."""

    def wrap(func: Check) -> Check:
        REGISTRY[rule_id] = Rule(rule_id, title, source, scope, func)
        return func

    return wrap


def describe(rule_id: str, *, title: str, source: str, scope: Scope) -> None:
    """Register a rule that has no configuration check (live or API rules)."""
    REGISTRY[rule_id] = Rule(rule_id, title, source, scope, None)
