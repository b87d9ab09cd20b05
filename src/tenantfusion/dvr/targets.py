"""Resolve ``[[post-config|FILE]]`` targets the way DevStack does, and who reads each file.

DevStack (inc/meta-config ``merge_config_group``) evaluates the target with
``eval "echo $configfile"`` after the services are configured, so the names are those
lib/neutron assigns. Values read at devstack 493835a61a996731a7031861f80c7629acd5d6f2
(master, 2026-07-17), ML2 plugin (lib/neutron_plugins/ml2 ``neutron_plugin_configure_common``):

- ``NEUTRON_CONF=$NEUTRON_CONF_DIR/neutron.conf`` with ``NEUTRON_CONF_DIR=/etc/neutron``;
- ``Q_PLUGIN_CONF_FILE=$Q_PLUGIN_CONF_PATH/$Q_PLUGIN_CONF_FILENAME`` =
  ``etc/neutron/plugins/ml2/ml2_conf.ini``: *relative*; DevStack itself always writes
  ``/$Q_PLUGIN_CONF_FILE``. ``NEUTRON_CORE_PLUGIN_CONF=$Q_PLUGIN_CONF_FILE`` (same file, kept
  for the Neutron repository's jobs since "Drop lib/neutron module", devstack a52041cd);
- ``Q_DHCP_CONF_FILE`` (= ``NEUTRON_DHCP_CONF``), ``Q_L3_CONF_FILE`` (= ``NEUTRON_L3_CONF``),
  ``Q_META_CONF_FILE``: ``/etc/neutron/{dhcp,l3,metadata}_agent.ini``.

lib/neutron assigns these unconditionally (no ``${X:-...}``), so a localrc value of the
same name is overwritten; other names come from localrc. A relative result is resolved
against stack.sh's working directory (normally the devstack checkout): a file Neutron
never reads. An empty result makes DevStack warn "unknown config file specification" and
skip the rest of the post-config group.

Processes and the files they read (lib/neutron ``_determine_config_server``,
``_determine_config_l3``, ``start_l2_agent``, ``start_neutron_other_agents``); with
oslo.config a later ``--config-file`` wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

DEVSTACK_COMMIT = "493835a61a996731a7031861f80c7629acd5d6f2"
NEUTRON_COMMIT = "2131d26f73262ec89a5d3e3e0d65521df4908e65"

ML2_CONF = "/etc/neutron/plugins/ml2/ml2_conf.ini"
NEUTRON_CONF = "/etc/neutron/neutron.conf"
L3_CONF = "/etc/neutron/l3_agent.ini"

#: File variables as lib/neutron (and other lib/* files) set them at DEVSTACK_COMMIT.
DEVSTACK_FILES: dict[str, str] = {
    "NEUTRON_CONF_DIR": "/etc/neutron",
    "NEUTRON_CONF": NEUTRON_CONF,
    "Q_PLUGIN_CONF_PATH": "etc/neutron/plugins/ml2",
    "Q_PLUGIN_CONF_FILENAME": "ml2_conf.ini",
    "Q_PLUGIN_CONF_FILE": ML2_CONF.lstrip("/"),
    "NEUTRON_CORE_PLUGIN_CONF": ML2_CONF.lstrip("/"),
    "Q_DHCP_CONF_FILE": "/etc/neutron/dhcp_agent.ini",
    "NEUTRON_DHCP_CONF": "/etc/neutron/dhcp_agent.ini",
    "Q_L3_CONF_FILE": L3_CONF,
    "NEUTRON_L3_CONF": L3_CONF,
    "Q_META_CONF_FILE": "/etc/neutron/metadata_agent.ini",
    "NEUTRON_UWSGI_CONF": "/etc/neutron/neutron-api-uwsgi.ini",
    "Q_RR_CONF_FILE": "/etc/neutron/rootwrap.conf",
    "NOVA_CONF": "/etc/nova/nova.conf",  # lib/nova
    "NOVA_CPU_CONF": "/etc/nova/nova-cpu.conf",
    "KEYSTONE_CONF": "/etc/keystone/keystone.conf",  # lib/keystone
    "GLANCE_API_CONF": "/etc/glance/glance-api.conf",  # lib/glance
    "CINDER_CONF": "/etc/cinder/cinder.conf",  # lib/cinder
    "PLACEMENT_CONF": "/etc/placement/placement.conf",  # lib/placement
    "TEMPEST_CONFIG": "/opt/stack/tempest/etc/tempest.conf",  # lib/tempest
}

Process = Literal["q-svc", "q-agt", "q-l3", "q-dhcp", "q-meta"]

#: Which Neutron files each DevStack-started process reads, in --config-file order.
READS: dict[str, tuple[str, ...]] = {
    "q-svc": (NEUTRON_CONF, ML2_CONF),
    "q-agt": (NEUTRON_CONF, ML2_CONF),
    "q-l3": (NEUTRON_CONF, L3_CONF),
    "q-dhcp": (NEUTRON_CONF, "/etc/neutron/dhcp_agent.ini"),
    "q-meta": (NEUTRON_CONF, "/etc/neutron/metadata_agent.ini"),
}

REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Target:
    """A post-config target as DevStack resolves it.

    ``path`` is the absolute path (normalised), or None when it cannot be one: ``kind`` says
    why: ``absolute``, ``relative`` (resolved against stack.sh's working directory),
    ``unknown`` (a variable neither DevStack at the pinned commit nor localrc defines).
    """

    spec: str
    kind: Literal["absolute", "relative", "unknown"]
    path: str
    unknown: tuple[str, ...] = ()

    @property
    def readers(self) -> tuple[str, ...]:
        """The DevStack-started Neutron processes that read this file."""
        if self.kind != "absolute":
            return ()
        return tuple(p for p, files in READS.items() if self.path in files)


def resolve(spec: str, localrc: dict[str, str]) -> Target:
    """Evaluate ``spec`` like ``eval "echo $configfile"`` would after lib/neutron ran."""
    unknown: list[str] = []

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in DEVSTACK_FILES:
            return DEVSTACK_FILES[name]
        if localrc.get(name):
            return localrc[name]
        unknown.append(name)
        return ""

    text = REF.sub(repl, spec.strip())
    path = re.sub(r"/+", "/", text)
    if unknown:
        return Target(spec, "unknown", path, tuple(unknown))
    if path.startswith("/"):
        return Target(spec, "absolute", path)
    return Target(spec, "relative", path)
