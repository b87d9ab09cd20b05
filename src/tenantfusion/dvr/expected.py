"""Expected Neutron state (``routers.json``) and what it implies for one host.

Schema (all ids are Neutron ids; unknown port ids may be omitted, the checker then
matches device prefixes instead of exact names)::

    {"networks":   [{"id", "external": false, "cidr": "203.0.113.0/24", "dhcp_hosts": ["net1"]}],
     "routers":    [{"id", "distributed": true, "gateway": {"network_id", "port_id", "ip"},
                     "interfaces": [{"network_id", "port_id", "ip", "snat_port_id"}]}],
     "ports":      [{"id", "network_id", "host", "ip"}],          # VM ports and their binding host
     "floating_ips": [{"ip", "router_id", "host", "fixed_ip"}],   # host of the VM's port
     "fip_gateways": [{"host", "network_id", "port_id", "ip"}],   # fg- ports, if known
     "hosts": {"cmp1": {"tunnel_ip": "198.51.100.11"}}}

Placement follows Neutron's DVR scheduling (R25, R27): a distributed router has a
qrouter namespace on every host with a bound port on one of its networks and on the
dvr_snat node when it has a gateway; snat-<router> lives on the dvr_snat node; a host
gets fip-<external network> when it hosts a VM with a floating IP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tenantfusion.dvr.errors import StateError

DEV_NAME_LEN = 14  # neutron agent/linux/interface.py LinuxInterfaceDriver.DEV_NAME_LEN


def dev_name(prefix: str, resource_id: str) -> str:
    """Neutron's device name: prefix + id, cut to 14 characters."""
    return (prefix + resource_id)[:DEV_NAME_LEN]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Network(_Model):
    """A Neutron network."""

    id: str
    external: bool = False
    cidr: IPv4Network | None = None
    dhcp_hosts: list[str] = Field(default_factory=list)


class Gateway(_Model):
    """A router's external gateway."""

    network_id: str
    port_id: str | None = None
    ip: IPv4Address | None = None


class Interface(_Model):
    """A router interface on a tenant subnet."""

    network_id: str
    port_id: str | None = None
    ip: IPv4Address | None = None
    snat_port_id: str | None = None  # the sg- port of this subnet on the dvr_snat node


class Router(_Model):
    """A Neutron router."""

    id: str
    distributed: bool = True
    gateway: Gateway | None = None
    interfaces: list[Interface] = Field(default_factory=list)


class Port(_Model):
    """A bound (VM) port."""

    id: str | None = None
    network_id: str
    host: str
    ip: IPv4Address | None = None


class FloatingIp(_Model):
    """A floating IP associated with a VM port on ``host``."""

    ip: IPv4Address
    router_id: str
    host: str
    fixed_ip: IPv4Address | None = None


class FipGateway(_Model):
    """A host's fg- port on an external network."""

    host: str
    network_id: str
    port_id: str | None = None
    ip: IPv4Address | None = None


class HostInfo(_Model):
    """Per-host facts."""

    tunnel_ip: IPv4Address | None = None


class ExpectedState(_Model):
    """The Neutron state the node checker compares against."""

    networks: list[Network] = Field(default_factory=list)
    routers: list[Router] = Field(default_factory=list)
    ports: list[Port] = Field(default_factory=list)
    floating_ips: list[FloatingIp] = Field(default_factory=list)
    fip_gateways: list[FipGateway] = Field(default_factory=list)
    hosts: dict[str, HostInfo] = Field(default_factory=dict)

    def network(self, network_id: str) -> Network | None:
        """The network with this id."""
        return next((n for n in self.networks if n.id == network_id), None)


def load_expected(*, path: Path) -> ExpectedState:
    """Read an expected-state file; raises StateError."""
    try:
        return ExpectedState.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise StateError(f"{path}: cannot read: {e.strerror}") from e
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StateError(f"{path}: {where}: {first['msg']}") from e


@dataclass
class HostPlan:
    """What one host should have."""

    namespaces: dict[str, str] = field(default_factory=dict)  # name -> why
    devices: dict[str, list[tuple[str, str | None]]] = field(
        default_factory=dict
    )  # ns -> [(name|prefix*, ip)]
    fip_routes: list[tuple[str, str]] = field(default_factory=list)  # (fip, fpr device)
    external_cidrs: list[IPv4Network] = field(default_factory=list)


def _dev(prefix: str, resource_id: str | None) -> str:
    return dev_name(prefix, resource_id) if resource_id else prefix + "*"


def plan_host(*, expected: ExpectedState, host: str, mode: str) -> HostPlan:
    """Derive the namespaces, devices and routes ``host`` must have (R25, R27–R29)."""
    plan = HostPlan()
    is_snat = mode == "dvr_snat"
    for net in expected.networks:
        if host in net.dhcp_hosts:
            plan.namespaces[f"qdhcp-{net.id}"] = "DHCP serves this network here"
        if net.external and net.cidr is not None and mode in ("dvr_snat", "dvr"):
            plan.external_cidrs.append(net.cidr)
    for router in expected.routers:
        nets = {i.network_id for i in router.interfaces}
        bound = any(p.host == host and p.network_id in nets for p in expected.ports)
        qrouter, snat = f"qrouter-{router.id}", f"snat-{router.id}"
        qr = [(_dev("qr-", i.port_id), str(i.ip) if i.ip else None) for i in router.interfaces]
        gw = router.gateway
        if not router.distributed:
            if is_snat:
                plan.namespaces[qrouter] = "legacy router on the dvr_snat node"
                gw_dev = [(_dev("qg-", gw.port_id), str(gw.ip) if gw.ip else None)] if gw else []
                plan.devices[qrouter] = qr + gw_dev
            continue
        if bound or (is_snat and gw is not None):
            why = "a port of its subnets is bound here" if bound else "dvr_snat node of its gateway"
            plan.namespaces[qrouter] = why
            plan.devices[qrouter] = list(qr)
        if is_snat and gw is not None:
            plan.namespaces[snat] = "centralized SNAT for a router with a gateway"
            plan.devices[snat] = [(_dev("qg-", gw.port_id), str(gw.ip) if gw.ip else None)] + [
                (_dev("sg-", i.snat_port_id), None) for i in router.interfaces
            ]
        if mode == "dvr_no_external" or gw is None:
            continue
        fips = [f for f in expected.floating_ips if f.router_id == router.id and f.host == host]
        if not fips:
            continue
        fip_ns = f"fip-{gw.network_id}"
        plan.namespaces[fip_ns] = "a VM with a floating IP runs here"
        fg = next(
            (g for g in expected.fip_gateways if g.host == host and g.network_id == gw.network_id),
            None,
        )
        fg_dev = (_dev("fg-", fg.port_id if fg else None), str(fg.ip) if fg and fg.ip else None)
        devices = plan.devices.setdefault(fip_ns, [])
        fpr = dev_name("fpr-", router.id)
        for item in (fg_dev, (fpr, None)):
            if item not in devices:
                devices.append(item)
        plan.devices.setdefault(qrouter, []).append((dev_name("rfp-", router.id), None))
        plan.fip_routes += [(str(f.ip), fpr) for f in fips]
    return plan
