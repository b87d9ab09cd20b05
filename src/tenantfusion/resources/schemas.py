"""Request and response bodies of tenant resources (the public API contract).

Every routed object is shown with its platform ``id``, the ``pool`` it lives in and its
``remote_id`` there. ``status`` is the pool's own word for it, read at request time.
References to other tenant objects (``network``, ``subnet``, ``server``) are platform ids;
``flavor`` and ``image`` are names or ids inside the chosen pool.
"""

from __future__ import annotations

from datetime import datetime
from ipaddress import ip_address, ip_network
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tenantfusion.schemas import Page

Name = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f]+$")]
PoolName = Annotated[
    str | None, Field(default=None, description="Pool name; omitted: the scheduler picks")
]
Labels = Annotated[
    dict[str, str] | None,
    Field(default=None, description="Only pools carrying all these labels (scheduler)"),
]


class _Create(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Placement(BaseModel):
    """Where the scheduler put a new object, and why (also in the audit log)."""

    pool: str
    reason: str


class ResourceRead(BaseModel):
    id: str
    name: str
    pool: str
    remote_id: str
    status: str
    #: tenantfusion's own state of the object: ``active``, ``deleting`` (its delete job
    #: runs), ``delete_failed`` (the job gave up by its deadline: ``reason``; delete again)
    state: str = "active"
    reason: str | None = None
    created_at: datetime
    #: Only on create responses: the scheduler's decision.
    placement: Placement | None = None


# --- servers ---------------------------------------------------------------------------


class ServerCreate(_Create):
    name: Name
    flavor: str = Field(min_length=1, description="Flavor name or id in the pool")
    image: str = Field(min_length=1, description="Image name or id in the pool")
    network: str | None = Field(
        default=None,
        description="Platform id of one of the tenant's networks (its pool is used); "
        "omitted: the tenant's default network in the pool",
    )
    pool: PoolName
    pool_selector: Labels


class ServerRead(ResourceRead):
    flavor: str | None = None
    image: str | None = None
    #: Network name → addresses, as the pool reports them.
    addresses: dict[str, list[str]] = Field(default_factory=dict)
    power_state: str | None = None
    #: What Nova is doing to it now (``powering-on``, ``rebooting``...), None when idle.
    task_state: str | None = None


class ServerAction(_Create):
    action: Literal["start", "stop", "reboot"]
    hard: bool = Field(default=False, description="reboot only: HARD instead of SOFT")


# --- networks and subnets --------------------------------------------------------------


class NetworkCreate(_Create):
    name: Name
    pool: PoolName
    pool_selector: Labels


class NetworkRead(ResourceRead):
    subnets: list[str] = Field(default_factory=list, description="Platform ids of its subnets")
    mtu: int | None = None
    is_default: bool = False


class SubnetCreate(_Create):
    name: Name
    network: str = Field(description="Platform id of the network (decides the pool)")
    cidr: str
    gateway_ip: str | None = None
    enable_dhcp: bool = True
    dns_nameservers: list[str] = Field(default_factory=list)

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return str(ip_network(v, strict=True))

    @field_validator("gateway_ip")
    @classmethod
    def _gateway(cls, v: str | None) -> str | None:
        return None if v is None else str(ip_address(v))

    @field_validator("dns_nameservers")
    @classmethod
    def _dns(cls, v: list[str]) -> list[str]:
        return [str(ip_address(x)) for x in v]


class SubnetRead(ResourceRead):
    network: str | None = Field(description="Platform id of its network")
    cidr: str
    ip_version: int
    gateway_ip: str | None = None
    enable_dhcp: bool = True


# --- routers ---------------------------------------------------------------------------


class RouterCreate(_Create):
    name: Name
    pool: PoolName
    pool_selector: Labels
    external_gateway: bool = Field(
        default=False, description="Connect to the pool's external network"
    )


class RouterRead(ResourceRead):
    is_distributed: bool | None = None
    external_gateway: bool = False
    #: Platform ids of the subnets attached to it.
    interfaces: list[str] = Field(default_factory=list)


class RouterAction(_Create):
    action: Literal["add_interface", "remove_interface", "set_gateway", "clear_gateway"]
    subnet: str | None = Field(default=None, description="add/remove_interface: subnet id")


# --- floating IPs ----------------------------------------------------------------------


class FloatingIPCreate(_Create):
    pool: PoolName
    pool_selector: Labels
    server: str | None = Field(
        default=None, description="Platform id of a server to associate (decides the pool)"
    )


class FloatingIPRead(ResourceRead):
    address: str
    server: str | None = Field(default=None, description="Platform id of the server")
    fixed_ip: str | None = None


class FloatingIPAction(_Create):
    action: Literal["associate", "disassociate"]
    server: str | None = Field(default=None, description="associate: platform id of a server")


# --- volumes ---------------------------------------------------------------------------


class VolumeCreate(_Create):
    name: Name
    size_gb: int = Field(ge=1, le=16384, description="Size in GiB")
    volume_type: str | None = Field(
        default=None, min_length=1, max_length=255, description="Volume type in the pool"
    )
    pool: PoolName
    pool_selector: Labels


class VolumeRead(ResourceRead):
    size_gb: int | None = None
    volume_type: str | None = None
    server: str | None = Field(default=None, description="Platform id of the server it is on")
    device: str | None = Field(default=None, description="Its device on that server")


class VolumeAction(_Create):
    action: Literal["attach", "detach"]
    server: str | None = Field(
        default=None, description="attach: platform id of a server in the volume's pool"
    )


# --- pool catalogue (read-only, not routed) --------------------------------------------


class FlavorRead(BaseModel):
    pool: str
    id: str
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int


class ImageRead(BaseModel):
    pool: str
    id: str
    name: str
    status: str
    min_disk_gb: int = 0
    size_bytes: int | None = None


# --- lists ---------------------------------------------------------------------------


class ListQuery(BaseModel):
    """Filters and page of a merged list (query parameters)."""

    model_config = ConfigDict(extra="forbid")

    pool: str | None = None
    status: str | None = Field(default=None, description="Pool status, case-insensitive")
    name: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    marker: str | None = Field(default=None, description="next_marker of the previous page")


# --- pages -----------------------------------------------------------------------------

T = TypeVar("T")


class ResourcePage(Page[T], Generic[T]):
    #: Each pool's outcome: ``ok``, or ``unavailable``/``timeout``/``error`` (list partial).
    pools: dict[str, str] = Field(default_factory=dict)
