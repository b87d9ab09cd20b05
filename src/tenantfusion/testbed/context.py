"""`PoolContext`: one pool's folder, ports, URLs, secrets and shared config sections."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from tenantfusion.testbed.ini import Value
from tenantfusion.testbed.layout import HOST, Layout

REGION = "RegionOne"
SERVICE_PROJECT = "service"
SECRET_NAMES = ("admin_password", "service_password", "db_password", "rabbit_password")
MARIADB = f"{HOST}:3306"
RABBITMQ = f"{HOST}:5672"


def load_secrets(pool_dir: Path) -> dict[str, str]:
    """Return the pool's random test-bed passwords, creating missing ones (file mode 0600)."""
    path = pool_dir / "secrets.json"
    data: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in SECRET_NAMES if name not in data]
    if missing:
        pool_dir.mkdir(parents=True, exist_ok=True)
        data.update({name: secrets.token_urlsafe(18) for name in missing})
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
    return data


@dataclass(frozen=True)
class PoolContext:
    """Everything a service module needs to configure pool `index`."""

    layout: Layout
    index: int
    secrets: dict[str, str]

    @classmethod
    def create(cls, layout: Layout, index: int) -> PoolContext:
        return cls(layout, index, load_secrets(layout.pool_dir(index)))

    @property
    def name(self) -> str:
        return f"pool{self.index}"

    @property
    def dir(self) -> Path:
        return self.layout.pool_dir(self.index)

    @property
    def slug(self) -> str:
        """Prefix of this pool's MariaDB databases/user and RabbitMQ vhost/user."""
        return f"tf_pool{self.layout.port_offset + self.index}"

    @property
    def compute_host(self) -> str:
        """Nova compute host name, also the fake Open vSwitch agent's host."""
        return f"tf-pool{self.layout.port_offset + self.index}-compute"

    def port(self, service: str) -> int:
        return self.layout.port(service, self.index)

    def url(self, service: str, path: str = "") -> str:
        return f"http://{HOST}:{self.port(service)}{path}"

    @property
    def auth_url(self) -> str:
        return self.url("keystone", "/v3")

    def database(self, service: str) -> str:
        return f"{self.slug}_{service}"

    def db_url(self, service: str) -> str:
        """SQLAlchemy URL of this pool's database for `service` (TCP, dedicated user)."""
        return (
            f"mysql+pymysql://{self.slug}:{self.secrets['db_password']}@{MARIADB}/"
            f"{self.database(service)}?charset=utf8mb4"
        )

    @property
    def transport_url(self) -> str:
        return f"rabbit://{self.slug}:{self.secrets['rabbit_password']}@{RABBITMQ}/{self.slug}"

    def service_auth(self, username: str) -> dict[str, Value]:
        """keystoneauth1 password options of a service user (for [placement], [neutron]...)."""
        return {
            "auth_type": "password",
            "auth_url": self.auth_url,
            "username": username,
            "password": self.secrets["service_password"],
            "project_name": SERVICE_PROJECT,
            "user_domain_name": "Default",
            "project_domain_name": "Default",
            "region_name": REGION,
        }

    def authtoken(self, username: str) -> dict[str, Value]:
        """[keystone_authtoken] for an API validating tokens as `username`."""
        return {
            "www_authenticate_uri": self.auth_url,
            **self.service_auth(username),
            "service_token_roles_required": True,
        }
