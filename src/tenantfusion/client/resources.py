"""Tenant resource groups: servers, networks, subnets, routers, floating-ips, flavors,
images."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tenantfusion.client.base import (
    Output,
    OutputOpt,
    UrlOpt,
    client,
    one_line_errors,
    resource_group,
    wait_for,
)
from tenantfusion.client.http import Client
from tenantfusion.client.output import emit

COLUMNS = ("id", "name", "pool", "status")
servers = resource_group(
    name="servers", path="servers", columns=(*COLUMNS, "addresses"), help="Servers"
)
networks = resource_group(
    name="networks", path="networks", columns=(*COLUMNS, "subnets", "is_default"), help="Networks"
)
subnets = resource_group(
    name="subnets", path="subnets", columns=(*COLUMNS, "network", "cidr"), help="Subnets"
)
routers = resource_group(
    name="routers",
    path="routers",
    columns=(*COLUMNS, "is_distributed", "external_gateway", "interfaces"),
    help="Routers",
)
floating_ips = resource_group(
    name="floating-ips",
    path="floating-ips",
    columns=("id", "address", "pool", "status", "server", "fixed_ip"),
    help="Floating IPs",
)
flavors = resource_group(
    name="flavors", path="flavors", columns=("pool", "name", "vcpus", "ram_mb", "disk_gb"),
    help="Flavors of the pools (read-only)", read_only=True,
)  # fmt: skip
images = resource_group(
    name="images", path="images", columns=("pool", "name", "status", "size_bytes"),
    help="Public images of the pools (read-only)", read_only=True,
)  # fmt: skip

PoolOpt = Annotated[str | None, typer.Option(help="Pool name; omitted: the scheduler picks")]
SelectorOpt = Annotated[
    list[str] | None, typer.Option("--selector", help="Pool label key=value (scheduler)")
]


def _selector(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    if any("=" not in i for i in items):
        raise typer.BadParameter("--selector takes key=value")
    return dict(i.split("=", 1) for i in items)


def _create(api: Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = api.call(
        "POST", f"/v1/{path}", json={k: v for k, v in body.items() if v is not None}
    )
    return created


def _action(path: str, ref: str, body: dict[str, Any], output: Output, url: str | None) -> None:
    answer = client(url).call("POST", f"/v1/{path}/{ref}/action", json=body)
    emit(answer, output=output, columns=())


@servers.command("create")
@one_line_errors
def create_server(
    name: str,
    flavor: Annotated[str, typer.Option(help="Flavor name or id in the pool")],
    image: Annotated[str, typer.Option(help="Image name or id in the pool")],
    network: Annotated[str | None, typer.Option(help="Network id; omitted: default")] = None,
    pool: PoolOpt = None,
    selector: SelectorOpt = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until ACTIVE")] = False,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Create a server (onboards the tenant into the pool first if needed)."""
    api = client(url)
    body = {
        "name": name,
        "flavor": flavor,
        "image": image,
        "network": network,
        "pool": pool,
        "pool_selector": _selector(selector),
    }
    server = _create(api, "servers", body)
    if wait:
        server = wait_for(
            what=f"server {name}",
            poll=lambda: api.call("GET", f"/v1/servers/{server['id']}"),
            state=lambda s: str(s["status"]),
            done={"ACTIVE"},
            failed={"ERROR"},
            timeout=600,
        )
    emit(server, output=output, columns=())


def _server_action(action: str) -> None:
    @servers.command(action)
    @one_line_errors
    def run(
        server: str,
        hard: Annotated[bool, typer.Option(help="reboot: HARD")] = False,
        output: OutputOpt = Output.table,
        url: UrlOpt = None,
    ) -> None:
        _action("servers", server, {"action": action, "hard": hard}, output, url)

    run.__doc__ = f"{action.capitalize()} a server."


for _name in ("start", "stop", "reboot"):
    _server_action(_name)


@networks.command("create")
@one_line_errors
def create_network(
    name: str,
    pool: PoolOpt = None,
    selector: SelectorOpt = None,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Create a network."""
    body = {"name": name, "pool": pool, "pool_selector": _selector(selector)}
    emit(_create(client(url), "networks", body), output=output, columns=())


@subnets.command("create")
@one_line_errors
def create_subnet(
    name: str,
    network: Annotated[str, typer.Option(help="Network id")],
    cidr: Annotated[str, typer.Option(help="e.g. 10.1.0.0/24")],
    gateway_ip: str | None = None,
    dhcp: bool = True,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Create a subnet in one of your networks."""
    body = {
        "name": name,
        "network": network,
        "cidr": cidr,
        "gateway_ip": gateway_ip,
        "enable_dhcp": dhcp,
    }
    emit(_create(client(url), "subnets", body), output=output, columns=())


@routers.command("create")
@one_line_errors
def create_router(
    name: str,
    pool: PoolOpt = None,
    selector: SelectorOpt = None,
    external_gateway: Annotated[bool, typer.Option(help="To the pool's external net")] = False,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Create a router (distributed where the pool has DVR)."""
    body = {
        "name": name,
        "pool": pool,
        "pool_selector": _selector(selector),
        "external_gateway": external_gateway,
    }
    emit(_create(client(url), "routers", body), output=output, columns=())


def _router_action(action: str, with_subnet: bool) -> None:
    command = action.replace("_", "-")

    if with_subnet:

        @routers.command(command)
        @one_line_errors
        def run_subnet(
            router: str,
            subnet: Annotated[str, typer.Option(help="Subnet id")],
            output: OutputOpt = Output.table,
            url: UrlOpt = None,
        ) -> None:
            _action("routers", router, {"action": action, "subnet": subnet}, output, url)

        run_subnet.__doc__ = f"{command}: attach or detach a subnet."
        return

    @routers.command(command)
    @one_line_errors
    def run(router: str, output: OutputOpt = Output.table, url: UrlOpt = None) -> None:
        _action("routers", router, {"action": action}, output, url)

    run.__doc__ = f"{command}: the pool's external network."


for _name, _subnet in (
    ("add_interface", True),
    ("remove_interface", True),
    ("set_gateway", False),
    ("clear_gateway", False),
):
    _router_action(_name, _subnet)


@floating_ips.command("create")
@one_line_errors
def create_floating_ip(
    server: Annotated[str | None, typer.Option(help="Server id to associate")] = None,
    pool: PoolOpt = None,
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Allocate a floating IP (and associate it with --server)."""
    emit(
        _create(client(url), "floating-ips", {"server": server, "pool": pool}),
        output=output,
        columns=(),
    )


@floating_ips.command("associate")
@one_line_errors
def associate(
    floating_ip: str,
    server: Annotated[str, typer.Option(help="Server id")],
    output: OutputOpt = Output.table,
    url: UrlOpt = None,
) -> None:
    """Associate with a server in the same pool."""
    _action("floating-ips", floating_ip, {"action": "associate", "server": server}, output, url)


@floating_ips.command("disassociate")
@one_line_errors
def disassociate(floating_ip: str, output: OutputOpt = Output.table, url: UrlOpt = None) -> None:
    """Detach from its server."""
    _action("floating-ips", floating_ip, {"action": "disassociate"}, output, url)
