"""What DevStack will do on each node: the effective settings the rules check.

A ``NodeConfig`` is built from a parsed local.conf (plus its post-install script) or
from an inventory node. Every value keeps where it came from (``Src``: file and line,
or inventory field), so a finding can point at it.

DevStack semantics modelled here (devstack master):
- stackrc sets the all-in-one ``ENABLED_SERVICES`` list *before* sourcing localrc, so
  ``ENABLED_SERVICES+=...`` appends to it; ``disable_all_services`` empties it.
- ``Q_AGENT`` defaults to ``ovn`` (lib/neutron_plugins/ml2), and the ovn agent file sets
  ``Q_ML2_PLUGIN_TYPE_DRIVERS`` to ``local,flat,vlan,geneve`` (lib/neutron_plugins/ovn_agent).
- ``Q_DVR_MODE`` defaults to ``legacy``; any other mode forces
  ``Q_ML2_PLUGIN_MECHANISM_DRIVERS=openvswitch,l2population`` (lib/neutron).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network

from tenantfusion.dvr.localconf import IniEntry, LocalConf, ShellCommand, Statement, expand
from tenantfusion.dvr.targets import L3_CONF, ML2_CONF, NEUTRON_CONF, READS, Target, resolve

#: stackrc: the service list a node runs when localrc does not replace it.
STACKRC_DEFAULT_SERVICES: tuple[str, ...] = (
    "key", "n-api", "n-cpu", "n-cond", "n-sch", "n-novnc", "n-api-meta",
    "placement-api", "placement-client", "g-api", "c-sch", "c-api", "c-vol",
    "ovn-controller", "ovn-northd", "ovs-vswitchd", "ovsdb-server",
    "q-svc", "q-ovn-agent", "horizon", "rabbit", "tempest", "mysql", "etcd3", "dstat",
)  # fmt: skip

#: Defaults of the variables the rules read (stackrc, lib/neutron, lib/neutron_plugins/*).
DEFAULTS: dict[str, str] = {
    "Q_AGENT": "ovn",
    "Q_DVR_MODE": "legacy",
    "Q_ML2_TENANT_NETWORK_TYPE": "geneve",
    "FLOATING_RANGE": "172.24.4.0/24",
    "IPV4_ADDRS_SAFE_TO_USE": "10.0.0.0/22",
    "USE_SUBNETPOOL": "True",
    "PUBLIC_BRIDGE": "br-ex",
    "OVS_PHYSICAL_BRIDGE": "br-ex",
}

#: Short names of the Neutron files the rules look at (see targets.py for resolution).
FILES: dict[str, str] = {
    "neutron.conf": NEUTRON_CONF,
    "ml2_conf.ini": ML2_CONF,
    "l3_agent.ini": L3_CONF,
}


@dataclass(frozen=True)
class Src:
    """Where a value came from: a file and line, or an inventory field."""

    file: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        if self.field:
            return f"{self.file}#{self.field}" + (f" (line {self.line})" if self.line else "")
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Setting:
    """A value and its source."""

    value: str
    src: Src


@dataclass
class NodeConfig:
    """The effective DevStack configuration of one node."""

    name: str
    file: str
    role: str  # network | compute
    role_src: Src
    vars: dict[str, Setting] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)
    services_src: Src | None = None  # None: the stackrc default list
    service_appends: list[Statement] = field(default_factory=list)
    empty_appends: set[int] = field(default_factory=set)  # lines appending to an empty list
    shell_errors: list[Statement] = field(default_factory=list)
    post_config: list[IniEntry] = field(default_factory=list)
    post_install: list[ShellCommand] | None = None
    post_install_file: str | None = None
    brex_addresses: list[Setting] = field(default_factory=list)
    brex_ports: list[Setting] = field(default_factory=list)
    from_inventory: bool = False
    skipped: set[str] = field(default_factory=set)  # post-config targets DevStack never merges

    def get(self, name: str) -> str:
        """The effective value of a variable (localrc value or DevStack's default)."""
        if name in self.vars:
            return self.vars[name].value
        if name == "Q_ML2_PLUGIN_MECHANISM_DRIVERS":
            return "ovn"
        if name == "TUNNEL_ENDPOINT_IP":
            return self.get("HOST_IP")
        if name == "FIXED_RANGE":
            return self.get("IPV4_ADDRS_SAFE_TO_USE")
        return DEFAULTS.get(name, "")

    def src(self, name: str) -> Src:
        """Where a variable was set (or the file, for a default)."""
        setting = self.vars.get(name)
        return setting.src if setting else Src(self.file)

    def has(self, *services: str) -> bool:
        """Whether any of ``services`` is enabled (functions-common is_service_enabled)."""
        return any(s in self.services for s in services)

    @property
    def q_dvr_mode(self) -> str:
        """The node's Q_DVR_MODE: what DevStack configures for DVR (lib/neutron)."""
        return self.get("Q_DVR_MODE")

    @property
    def dvr_mode(self) -> str:
        """The L3 agent's effective agent_mode.

        A post-config ``agent_mode`` in $Q_L3_CONF_FILE overrides what DevStack wrote there
        (``$Q_DVR_MODE`` when not legacy); one in $NEUTRON_CONF counts only when DevStack
        wrote nothing in l3_agent.ini (the l3 agent reads l3_agent.ini last).
        """
        l3 = self.ini(L3_CONF, "DEFAULT", "agent_mode")
        if l3 is not None:
            return l3.value
        if self.q_dvr_mode != "legacy":
            return self.q_dvr_mode
        common = self.ini(NEUTRON_CONF, "DEFAULT", "agent_mode")
        return common.value if common is not None else self.q_dvr_mode

    @property
    def mech_drivers(self) -> list[str]:
        """Effective ML2 mechanism drivers of the server on this node.

        A post-config ``[ml2] mechanism_drivers`` in /$Q_PLUGIN_CONF_FILE wins; else DevStack's
        value: openvswitch,l2population when Q_DVR_MODE is not legacy (lib/neutron), else
        Q_ML2_PLUGIN_MECHANISM_DRIVERS (default ovn).
        """
        entry = self.ini(ML2_CONF, "ml2", "mechanism_drivers")
        if entry is not None:
            value = entry.value
        elif self.q_dvr_mode != "legacy":
            value = "openvswitch,l2population"
        else:
            value = self.get("Q_ML2_PLUGIN_MECHANISM_DRIVERS")
        return [d.strip() for d in value.split(",") if d.strip()]

    @property
    def type_drivers(self) -> list[str] | None:
        """Effective ML2 type drivers; None means Neutron's default (all, vxlan included)."""
        if "Q_ML2_PLUGIN_TYPE_DRIVERS" in self.vars:
            return [d for d in self.get("Q_ML2_PLUGIN_TYPE_DRIVERS").split(",") if d]
        if self.get("Q_AGENT") == "ovn":
            return ["local", "flat", "vlan", "geneve"]
        return None

    def target(self, entry: IniEntry) -> Target:
        """Where DevStack writes a post-config entry (targets.resolve)."""
        return resolve(entry.target, {k: v.value for k, v in self.vars.items()})

    def ini(self, target: str, section: str, key: str) -> IniEntry | None:
        """The last post-config entry written into a file (short name or path)."""
        path = FILES.get(target, target)
        found = None
        for entry in self.post_config:
            if entry.target in self.skipped:
                continue
            if entry.section == section and entry.key == key:
                if self.target(entry).path == path and self.target(entry).kind == "absolute":
                    found = entry
        return found

    def option(self, process: str, section: str, key: str) -> IniEntry | None:
        """The post-config entry ``process`` ends up with (its later --config-file wins)."""
        found = None
        for path in READS[process]:
            found = self.ini(path, section, key) or found
        return found


def ip_or_none(text: str) -> IPv4Address | None:
    """Parse an IPv4 address, or None."""
    try:
        addr = ip_address(text.split("/")[0].strip())
    except ValueError:
        return None
    return addr if isinstance(addr, IPv4Address) else None


def net_or_none(text: str) -> IPv4Network | None:
    """Parse an IPv4 network (host bits allowed), or None."""
    try:
        net = ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    return net if isinstance(net, IPv4Network) else None


def _apply_services(services: list[str], stmt: Statement, variables: dict[str, str]) -> list[str]:
    value = expand(stmt.value, variables)
    if stmt.kind == "assign":
        return [s for s in value.split(",") if s]
    if stmt.kind == "append":
        # Text is appended literally, then the list is read split at commas.
        joined = ",".join(services) + value
        return [s for s in joined.split(",") if s]
    return services


def _disable_negated(services: list[str]) -> list[str]:
    removed = {s[1:] for s in services if s.startswith("-")}
    return [s for s in services if not s.startswith("-") and s not in removed]


def from_localconf(
    *,
    conf: LocalConf,
    name: str,
    post_install: list[ShellCommand] | None = None,
    post_install_file: str | None = None,
) -> NodeConfig:
    """Evaluate a local.conf's localrc the way stackrc sources it."""
    node = NodeConfig(name=name, file=conf.path, role="compute", role_src=Src(conf.path))
    services = list(STACKRC_DEFAULT_SERVICES)
    disabled: list[str] = []
    plain: dict[str, str] = {}
    for stmt in conf.localrc():
        src = Src(conf.path, stmt.line.number)
        if stmt.kind in ("assign", "append") and stmt.name == "ENABLED_SERVICES":
            if not services:
                node.empty_appends.add(stmt.line.number)
            services = _apply_services(services, stmt, plain)
            node.services_src = src
            if stmt.kind == "append":
                node.service_appends.append(stmt)
        elif stmt.kind == "assign":
            plain[stmt.name] = expand(stmt.value, plain)
            node.vars[stmt.name] = Setting(plain[stmt.name], src)
        elif stmt.kind == "append":
            plain[stmt.name] = plain.get(stmt.name, "") + expand(stmt.value, plain)
            node.vars[stmt.name] = Setting(plain[stmt.name], src)
        elif stmt.kind == "prefixed-command":
            node.shell_errors.append(stmt)
            if stmt.name == "ENABLED_SERVICES":
                node.service_appends.append(stmt)
        elif stmt.name == "disable_all_services":
            services, node.services_src = [], src
        elif stmt.name == "enable_service":
            services += [s for s in stmt.args if s not in services and s not in disabled]
            node.services_src = src
        elif stmt.name == "disable_service":
            disabled += list(stmt.args)
            services = [s for s in services if s not in stmt.args]
            node.services_src = src
    node.services = _disable_negated(services)
    node.post_config = conf.post_config()
    node.skipped = _skipped_targets(conf, {k: v.value for k, v in node.vars.items()})
    node.post_install, node.post_install_file = post_install, post_install_file
    _infer_role(node)
    if post_install is not None:
        _read_post_install(node, post_install, post_install_file or "post-install.sh")
    if "PUBLIC_INTERFACE" in node.vars and node.get("PUBLIC_INTERFACE"):
        node.brex_ports.append(node.vars["PUBLIC_INTERFACE"])
    return node


def _skipped_targets(conf: LocalConf, localrc: dict[str, str]) -> set[str]:
    """Post-config targets DevStack never merges: merge_config_group stops ('break') at the
    first target that evaluates empty, so it and every later file are skipped."""
    specs = [s.target for s in conf.sections if s.group == "post-config"]
    for i, spec in enumerate(specs):
        if resolve(spec, localrc).kind == "unknown":
            return set(specs[i:]) - set(specs[:i])
    return set()


def _infer_role(node: NodeConfig) -> None:
    mode = node.dvr_mode
    if mode == "dvr_snat":
        node.role, node.role_src = "network", node.src("Q_DVR_MODE")
    elif mode in ("dvr", "dvr_no_external"):
        node.role, node.role_src = "compute", node.src("Q_DVR_MODE")
    elif node.services_src is not None and node.has("q-dhcp"):
        node.role, node.role_src = "network", node.services_src
    else:
        node.role, node.role_src = "compute", node.services_src or Src(node.file)


def _read_post_install(node: NodeConfig, commands: list[ShellCommand], file: str) -> None:
    """Collect br-ex ports and addresses a post-install script sets."""
    for cmd in commands:
        w = list(cmd.words)
        src = Src(file, cmd.line.number)
        if w[:1] == ["ovs-vsctl"]:
            args = [a for a in w[1:] if not a.startswith("-")]
            if len(args) >= 3 and args[0] == "add-port" and args[1] == "br-ex":
                node.brex_ports.append(Setting(args[2], src))
        elif w[:1] == ["ifconfig"] and len(w) >= 3 and w[1] == "br-ex":
            if ip_or_none(w[2]):
                node.brex_addresses.append(Setting(w[2], src))
        elif w[:1] == ["ip"] and len(w) >= 6 and w[1] in ("addr", "address", "a"):
            if w[2] in ("add", "replace") and "dev" in w and w[w.index("dev") + 1] == "br-ex":
                node.brex_addresses.append(Setting(w[3], src))
