"""Who is calling: the authenticated user behind a request, job or CLI command."""

from __future__ import annotations

from dataclasses import dataclass

from tenantfusion.errors import Forbidden, NotFound
from tenantfusion.platform.models import Role


@dataclass(frozen=True)
class Principal:
    user_id: str
    username: str
    role: Role
    tenant_id: str | None

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.platform_admin

    def require_platform_admin(self) -> None:
        """Raises Forbidden unless a platform admin."""
        if not self.is_platform_admin:
            raise Forbidden("this call needs the platform_admin role")

    def require_admin(self) -> None:
        """Raises Forbidden unless platform_admin or tenant_admin."""
        if self.role is Role.member:
            raise Forbidden("this call needs an admin role")

    def require_tenant_access(self, tenant_id: str, *, admin: bool = False) -> None:
        """Raises NotFound for another tenant (its existence is not revealed), Forbidden when
        ``admin`` is asked and the caller is only a member."""
        if self.is_platform_admin:
            return
        if self.tenant_id != tenant_id:
            raise NotFound(f"tenant {tenant_id} not found")
        if admin and self.role is not Role.tenant_admin:
            raise Forbidden("this call needs the tenant_admin role")


SYSTEM = Principal(user_id="system", username="system", role=Role.platform_admin, tenant_id=None)
