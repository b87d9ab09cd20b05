"""Tenant resource groups: servers, networks, subnets, routers, floating-ips, volumes,
flavors, images."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tenantfusion.client.base import (
    TimeoutOpt,
    UrlOpt,
    client,
    key_values,
    one_line_errors,
    prints,
    wait_for,
)
from tenantfusion.client.group import RESOURCE_FILTERS, Filter, add_action, option, resource_group
from tenantfusion.client.http import Client

COLUMNS = ("id", "name", "pool", "status")


def _group(name: str, help: str, *columns: str) -> typer.Typer:
    return resource_group(
        name=name,
        path=name,
        columns=columns or COLUMNS,
        help=help,
        filters=RESOURCE_FILTERS,
        max_limit=1000,
        job_delete=name == "servers",
    )


servers = _group("servers", "Servers.", *COLUMNS, "addresses")
networks = _group("networks", "Networks.", *COLUMNS, "subnets", "is_default")
subnets = _group("subnets", "Subnets.", *COLUMNS, "network", "cidr")
routers = _group(
    "routers", "Routers.", *COLUMNS, "is_distributed", "external_gateway", "interfaces"
)
floating_ips = _group(
    "floating-ips", "Floating IPs.", "id", "address", "pool", "status", "server", "fixed_ip"
)
volumes = _group("volumes", "Volumes (block storage).", *COLUMNS, "size_gb", "server", "device")
flavors, images = (
    resource_group(
        name=name,
        path=name,
        columns=columns,
        help=f"{name.capitalize()} of the pools (read-only).",
        filters=(Filter("pool", "Only this pool"),),
        verbs=("list",),
    )
    for name, columns in (
        ("flavors", ("pool", "name", "id", "vcpus", "ram_mb", "disk_gb")),
        ("images", ("pool", "name", "id", "status", "size_bytes")),
    )
)

PoolOpt = Annotated[str | None, typer.Option(help="Pool name; omitted: the scheduler picks")]
SelectorOpt = Annotated[
    list[str] | None, typer.Option("--selector", help="Pool label key=value (scheduler)")
]


def _create(*, api: Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST the body (None fields left out); what the API made."""
    made: dict[str, Any] = api.call(
        "POST", f"/v1/{path}", json={k: v for k, v in body.items() if v is not None}
    )
    return made


def _selector(items: list[str] | None) -> dict[str, str] | None:
    return key_values(items, option="--selector") or None


@servers.command("create")
@one_line_errors
@prints()
def create_server(
    name: str,
    flavor: Annotated[str, typer.Option(help="Flavor name or id in the pool")],
    image: Annotated[str, typer.Option(help="Image name or id in the pool")],
    network: Annotated[str | None, typer.Option(help="Network id; omitted: default")] = None,
    pool: PoolOpt = None,
    selector: SelectorOpt = None,
    wait: Annotated[bool, typer.Option("--wait", help="Until ACTIVE (exit 5 on ERROR)")] = False,
    timeout: TimeoutOpt = 600.0,
    url: UrlOpt = None,
) -> Any:
    """Create a server (onboards the tenant into the pool first if needed)."""
    body = {
        "name": name,
        "flavor": flavor,
        "image": image,
        "network": network,
        "pool": pool,
        "pool_selector": _selector(selector),
    }
    api = client(url=url)
    server = _create(api=api, path="servers", body=body)
    if wait:
        server = wait_for(
            what=f"server {name}",
            poll=lambda: api.call("GET", f"/v1/servers/{server['id']}"),
            state=lambda s: str(s["status"]).upper(),
            done={"ACTIVE"},
            failed={"ERROR"},
            timeout=timeout,
        )
    return server


@networks.command("create")
@one_line_errors
@prints()
def create_network(
    name: str,
    pool: PoolOpt = None,
    selector: SelectorOpt = None,
    url: UrlOpt = None,
) -> Any:
    """Create a network."""
    body = {"name": name, "pool": pool, "pool_selector": _selector(selector)}
    return _create(api=client(url=url), path="networks", body=body)


@subnets.command("create")
@one_line_errors
@prints()
def create_subnet(
    name: str,
    network: Annotated[str, typer.Option(help="Network id")],
    cidr: Annotated[str, typer.Option(help="e.g. 10.1.0.0/24")],
    gateway_ip: str | None = None,
    dhcp: Annotated[bool, typer.Option(help="DHCP on the subnet")] = True,
    dns: Annotated[list[str] | None, typer.Option(help="DNS nameserver, repeatable")] = None,
    url: UrlOpt = None,
) -> Any:
    """Create a subnet in one of your networks."""
    body = {
        "name": name,
        "network": network,
        "cidr": cidr,
        "gateway_ip": gateway_ip,
        "enable_dhcp": dhcp,
        "dns_nameservers": dns,
    }
    return _create(api=client(url=url), path="subnets", body=body)


@routers.command("create")
@one_line_errors
@prints()
def create_router(
    name: str,
    pool: PoolOpt = None,
    selector: SelectorOpt = None,
    external_gateway: Annotated[bool, typer.Option(help="To the pool's external net")] = False,
    url: UrlOpt = None,
) -> Any:
    """Create a router (distributed where the pool has DVR)."""
    body = {
        "name": name,
        "pool": pool,
        "pool_selector": _selector(selector),
        "external_gateway": external_gateway,
    }
    return _create(api=client(url=url), path="routers", body=body)


@floating_ips.command("create")
@one_line_errors
@prints()
def create_floating_ip(
    server: Annotated[str | None, typer.Option(help="Server id to associate")] = None,
    pool: PoolOpt = None,
    selector: SelectorOpt = None,
    url: UrlOpt = None,
) -> Any:
    """Allocate a floating IP (and associate it with --server)."""
    body = {"server": server, "pool": pool, "pool_selector": _selector(selector)}
    return _create(api=client(url=url), path="floating-ips", body=body)


@volumes.command("create")
@one_line_errors
@prints()
def create_volume(
    name: str,
    size_gb: Annotated[int, typer.Option("--size", min=1, help="Size in GiB")],
    volume_type: Annotated[str | None, typer.Option(help="Volume type in the pool")] = None,
    pool: PoolOpt = None,
    selector: SelectorOpt = None,
    url: UrlOpt = None,
) -> Any:
    """Create a volume (onboards the tenant into the pool first if needed)."""
    body = {
        "name": name,
        "size_gb": size_gb,
        "volume_type": volume_type,
        "pool": pool,
        "pool_selector": _selector(selector),
    }
    return _create(api=client(url=url), path="volumes", body=body)


def _field(name: str, help: str, annotation: Any = str) -> Any:
    return option(name, Annotated[annotation, typer.Option(f"--{name}", help=help)])


HARD = option("hard", Annotated[bool, typer.Option("--hard", help="HARD reboot")], False)
SUBNET = _field("subnet", "Subnet id")
SERVER = _field("server", "Server id (same pool)")
ON_SERVER = option(
    "server",
    Annotated[str | None, typer.Option("--server", help="Server id; default: the one it is on")],
    None,
)
for _group, _action, _doc, _fields in (
    (servers, "start", "Start a server.", ()),
    (servers, "stop", "Stop a server.", ()),
    (servers, "reboot", "Reboot a server (SOFT; --hard for HARD).", (HARD,)),
    (routers, "add_interface", "Attach a subnet.", (SUBNET,)),
    (routers, "remove_interface", "Detach a subnet.", (SUBNET,)),
    (routers, "set_gateway", "Connect to the pool's external network.", ()),
    (routers, "clear_gateway", "Disconnect from the pool's external network.", ()),
    (floating_ips, "associate", "Associate with a server in the same pool.", (SERVER,)),
    (floating_ips, "disassociate", "Detach from its server.", ()),
    (volumes, "attach", "Attach to a server in the same pool.", (SERVER,)),
    (volumes, "detach", "Detach from its server.", (ON_SERVER,)),
):
    add_action(_group, path=str(_group.info.name), action=_action, doc=_doc, fields=_fields)
