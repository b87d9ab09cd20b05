"""Neutron option rules: R7 (l2population), R21 (router_distributed), R22 (agent options).

Every option is looked up where the process really reads it (targets.py): a post-config
entry in a file the process reads overrides what DevStack wrote there; across files the
later ``--config-file`` wins. What DevStack itself writes in DVR mode (devstack
``DEVSTACK_COMMIT``): lib/neutron_plugins/ml2 ``neutron_plugin_configure_service`` (run on
every node with q-agt or q-svc, lib/neutron ``configure_neutron``) sets ``[agent]
l2_population, tunnel_types=vxlan, enable_distributed_routing, arp_responder`` in
/$Q_PLUGIN_CONF_FILE; lib/neutron ``_configure_dvr`` sets ``router_distributed`` in
$NEUTRON_CONF and ``agent_mode=$Q_DVR_MODE`` in $Q_L3_CONF_FILE. Neutron's defaults
(neutron ``conf/plugins/ml2/drivers/ovs_conf.py``, ``conf/agent/l3/config.py``,
``conf/db/l3_dvr_db.py``): False, False, False, legacy, False.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenantfusion.dvr.nodeconf import NodeConfig, Src
from tenantfusion.dvr.rules.base import Deployment, Finding, rule
from tenantfusion.dvr.targets import L3_CONF, ML2_CONF, NEUTRON_CONF, READS

#: (section, option) → the process that reads it and the post-config target to use.
OPTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("agent", "enable_distributed_routing"): ("q-agt", "/$Q_PLUGIN_CONF_FILE"),
    ("agent", "l2_population"): ("q-agt", "/$Q_PLUGIN_CONF_FILE"),
    ("agent", "arp_responder"): ("q-agt", "/$Q_PLUGIN_CONF_FILE"),
    ("agent", "tunnel_types"): ("q-agt", "/$Q_PLUGIN_CONF_FILE"),
    ("ovs", "local_ip"): ("q-agt", "/$Q_PLUGIN_CONF_FILE"),
    ("ovs", "bridge_mappings"): ("q-agt", "/$Q_PLUGIN_CONF_FILE"),
    ("DEFAULT", "agent_mode"): ("q-l3", "$Q_L3_CONF_FILE"),
    ("DEFAULT", "router_distributed"): ("q-svc", "$NEUTRON_CONF"),
    ("DEFAULT", "global_physnet_mtu"): ("q-svc", "$NEUTRON_CONF"),
    ("ml2", "path_mtu"): ("q-svc", "/$Q_PLUGIN_CONF_FILE"),
    ("ml2", "mechanism_drivers"): ("q-svc", "/$Q_PLUGIN_CONF_FILE"),
    ("ml2", "type_drivers"): ("q-svc", "/$Q_PLUGIN_CONF_FILE"),
    ("ml2", "tenant_network_types"): ("q-svc", "/$Q_PLUGIN_CONF_FILE"),
}
LONG_NAMES = {"q-svc": "neutron-api", "q-agt": "neutron-agent", "q-l3": "neutron-l3"}


@dataclass(frozen=True)
class Effective:
    """An option's value as the process sees it, and where it was set (None: not in local.conf)."""

    value: str
    src: Src | None
    target: str = ""  # the post-config spec that set it

    @property
    def where(self) -> str:
        """`` (set in [[post-config|...]])`` or nothing for DevStack's or Neutron's value."""
        return f" (set in [[post-config|{self.target}]])" if self.target else ""


def runs(node: NodeConfig, process: str) -> bool:
    """Whether the node runs a Neutron process (short or long service name)."""
    return node.has(process, LONG_NAMES.get(process, process))


def effective(
    node: NodeConfig, process: str, section: str, key: str, devstack: dict[str, str], default: str
) -> Effective:
    """The value ``process`` reads: per file post-config over DevStack's; later files win."""
    out = Effective(default, None)
    for path in READS[process]:
        entry = node.ini(path, section, key)
        if entry is not None:
            out = Effective(entry.value, Src(node.file, entry.line.number), entry.target)
        elif path in devstack:
            out = Effective(devstack[path], None)
    return out


def agent_option(node: NodeConfig, key: str) -> Effective:
    """An OVS agent ``[agent]`` option on this node."""
    dvr = node.q_dvr_mode != "legacy"
    devstack_values = {"tunnel_types": "vxlan"}
    devstack = {ML2_CONF: devstack_values.get(key, "True")} if dvr else {}
    return effective(
        node, "q-agt", "agent", key, devstack, "" if key == "tunnel_types" else "False"
    )


def _placement(node: NodeConfig) -> list[Finding]:
    """DVR options written where their process does not read them (warnings)."""
    out = []
    for entry in node.post_config:
        owner = OPTIONS.get((entry.section, entry.key))
        if owner is None:
            continue
        process, use = owner
        target = node.target(entry)
        spec = f"[[post-config|{entry.target}]]"
        fix = f"write it under [[post-config|{use}]]"
        if entry.target in node.skipped and target.kind != "unknown":
            why = (
                f"{spec} is never merged: an earlier post-config target is undefined and "
                "DevStack's merge_config_group stops there"
            )
        elif target.kind == "unknown":
            why = (
                f"{spec}: ${', $'.join(target.unknown)} is defined neither by DevStack nor in "
                "localrc; if it is empty DevStack warns 'unknown config file specification' "
                "and skips this and the following post-config files"
            )
        elif target.kind == "relative":
            why = (
                f"{spec} resolves to the relative path {target.path} (DevStack's "
                "Q_PLUGIN_CONF_FILE is relative), a file under stack.sh's working directory "
                "that Neutron never reads"
            )
            fix = f"write [[post-config|/{entry.target.lstrip('/')}]] (leading /)"
        elif process not in target.readers:
            why = f"{spec} is {target.path}, which {process} does not read"
        else:
            continue
        out.append(
            Finding.at(
                "R22",
                node.name,
                Src(node.file, entry.line.number),
                f"[{entry.section}] {entry.key}: {why}; the option keeps the value DevStack "
                "gives it",
                fix,
                severity="warning",
            )
        )
    return out


@rule(
    "R7",
    title="l2population on the server and l2_population=True on every OVS agent",
    source="devstack lib/neutron (Q_DVR_MODE != legacy forces openvswitch,l2population), "
    "lib/neutron_plugins/ml2 neutron_plugin_configure_service; neutron "
    "ovs_neutron_agent.py _check_agent_configurations (DVR without l2_population: ValueError)",
)
def r7_l2pop(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        if runs(node, "q-svc") and "l2population" not in node.mech_drivers:
            out.append(
                Finding.at(
                    "R7",
                    node.name,
                    node.src("Q_ML2_PLUGIN_MECHANISM_DRIVERS"),
                    "the server does not load the l2population mechanism driver",
                    "set Q_DVR_MODE (not legacy) or add l2population to the mechanism drivers",
                )
            )
        if not runs(node, "q-agt"):
            continue
        l2pop = agent_option(node, "l2_population")
        dvr = agent_option(node, "enable_distributed_routing")
        if l2pop.value.lower() != "true" and dvr.value.lower() == "true":
            out.append(
                Finding.at(
                    "R7",
                    node.name,
                    l2pop.src or dvr.src or node.src("Q_DVR_MODE"),
                    f"[agent] l2_population = {l2pop.value}{l2pop.where} with "
                    "enable_distributed_routing: "
                    "the OVS agent refuses to start ('DVR deployments for VXLAN/GRE/Geneve "
                    "underlays require L2-pop')",
                    "set l2_population = True (or drop the line: DevStack sets it in DVR mode)",
                )
            )
    return out


@rule(
    "R21",
    title="Server: [DEFAULT] router_distributed = True",
    source="devstack lib/neutron _configure_dvr (iniset $NEUTRON_CONF DEFAULT "
    "router_distributed True when Q_DVR_MODE != legacy); neutron conf/db/l3_dvr_db.py",
)
def r21_router_distributed(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        if not runs(node, "q-svc"):
            continue
        devstack = {NEUTRON_CONF: "True"} if node.q_dvr_mode != "legacy" else {}
        value = effective(node, "q-svc", "DEFAULT", "router_distributed", devstack, "False")
        if value.value.lower() != "true":
            out.append(
                Finding.at(
                    "R21",
                    node.name,
                    value.src or node.src("Q_DVR_MODE"),
                    "router_distributed is not True on the server: new routers are "
                    "legacy unless an admin passes distributed=True",
                    "set Q_DVR_MODE=dvr_snat (DevStack then sets router_distributed)",
                )
            )
    return out


@rule(
    "R22",
    title="Agents: enable_distributed_routing, tunnel_types vxlan, arp_responder; agent_mode",
    source="devstack lib/neutron_plugins/ml2 neutron_plugin_configure_service ([agent] options "
    "when Q_DVR_MODE != legacy); lib/neutron _configure_dvr (l3 agent_mode=$Q_DVR_MODE), "
    "start_l2_agent (--config-file /$Q_PLUGIN_CONF_FILE); inc/meta-config merge_config_group",
)
def r22_agents(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        out.extend(_placement(node))
        if runs(node, "q-agt") and node.dvr_mode != "legacy":
            dvr = agent_option(node, "enable_distributed_routing")
            if dvr.value.lower() != "true":
                out.append(
                    Finding.at(
                        "R22",
                        node.name,
                        dvr.src or node.src("Q_DVR_MODE"),
                        f"[agent] enable_distributed_routing = {dvr.value}{dvr.where}: "
                        "the OVS agent "
                        "does not install DVR flows, so this node cannot route as DVR",
                        "set enable_distributed_routing = True (or drop the line)",
                    )
                )
            types = agent_option(node, "tunnel_types")
            if "vxlan" not in [t.strip() for t in types.value.split(",")]:
                out.append(
                    Finding.at(
                        "R22",
                        node.name,
                        types.src or node.src("Q_DVR_MODE"),
                        f"[agent] tunnel_types = {types.value or '(none)'}{types.where}: "
                        "no vxlan tunnels, "
                        "so vxlan tenant networks do not reach this node",
                        "add vxlan to tunnel_types (or drop the line)",
                    )
                )
            arp = agent_option(node, "arp_responder")
            if arp.value.lower() != "true" and arp.src is not None:
                out.append(
                    Finding.at(
                        "R22",
                        node.name,
                        arp.src,
                        f"[agent] arp_responder = {arp.value}{arp.where}: "
                        "works, but ARP is flooded over "
                        "the tunnels (DevStack enables it in DVR mode)",
                        "set arp_responder = True (or drop the line)",
                        severity="warning",
                    )
                )
        if runs(node, "q-l3"):
            devstack = {L3_CONF: node.q_dvr_mode} if node.q_dvr_mode != "legacy" else {}
            mode = effective(node, "q-l3", "DEFAULT", "agent_mode", devstack, "legacy")
            explicit = "Q_DVR_MODE" in node.vars
            if mode.src is not None and explicit and mode.value != node.q_dvr_mode:
                out.append(
                    Finding.at(
                        "R22",
                        node.name,
                        mode.src,
                        f"l3 agent_mode = {mode.value}{mode.where} overrides "
                        f"Q_DVR_MODE={node.q_dvr_mode}: the agent runs {mode.value}",
                        "drop the line or make it match Q_DVR_MODE",
                        severity="warning",
                    )
                )
    return out
