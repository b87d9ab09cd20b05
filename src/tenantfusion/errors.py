"""Domain errors, rendered once as RFC 9457 problem+json.

TenantFusionError (type, status, title)
 ├── InvalidInput            422 invalid-input
 ├── NotAuthenticated        401 not-authenticated
 ├── Forbidden               403 forbidden
 ├── NotFound                404 not-found
 ├── Conflict                409 conflict
 │    ├── LastTenantAdmin    409 last-tenant-admin
 │    ├── ObjectsLeft        409 objects-left (a tenant/pool still holds mappings or objects)
 │    └── MappingBusy        409 mapping-busy (another worker holds the mapping's lease)
 ├── QuotaExceeded           409 quota-exceeded
 ├── BodyTooLarge            413 body-too-large (a streamed request body over its limit)
 ├── PoolError               502 pool-error
 │    ├── PoolUnreachable    502 pool-unreachable
 │    │    └── PoolTimeout    504 pool-timeout (no answer within the operation's deadline)
 │    ├── PoolAuthFailed     422 pool-auth-failed
 │    ├── PoolNotAdmin       422 pool-not-admin
 │    ├── PoolConflict       409 pool-conflict
 │    └── PoolNotFound       404 pool-object-not-found
 ├── TooManyAttempts         429 too-many-attempts (login lockout; Retry-After)
 ├── LoginBusy               503 login-busy (password checks at capacity; Retry-After)
 ├── PoolUnavailable         503 pool-unavailable (disabled or unhealthy pool)
 └── StepFailed              502 step-failed (an onboarding step could not finish)
      └── ExcessPrivilege    502 excess-privilege (a pool user holds more than member)
"""

from __future__ import annotations

from typing import Any, ClassVar


class TenantFusionError(Exception):
    """Root of every error the platform reports to a caller."""

    type: ClassVar[str] = "about:blank"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 body for this error."""
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class InvalidInput(TenantFusionError):
    type, status, title = "invalid-input", 422, "Invalid input"


class NotAuthenticated(TenantFusionError):
    type, status, title = "not-authenticated", 401, "Authentication required"


class Forbidden(TenantFusionError):
    type, status, title = "forbidden", 403, "Forbidden"


class NotFound(TenantFusionError):
    type, status, title = "not-found", 404, "Not found"


class Conflict(TenantFusionError):
    type, status, title = "conflict", 409, "Conflict"


class LastTenantAdmin(Conflict):
    type, title = "last-tenant-admin", "A tenant must keep an enabled tenant_admin"


class ObjectsLeft(Conflict):
    """Something still lives where a delete was asked; ``objects``/``mappings`` name it."""

    type, title = "objects-left", "Objects are left"


class MappingBusy(Conflict):
    type, title = "mapping-busy", "Another worker is changing this mapping"


class QuotaExceeded(TenantFusionError):
    type, status, title = "quota-exceeded", 409, "Quota exceeded"


class BodyTooLarge(TenantFusionError):
    """A request body streamed past the guard (image data) that is larger than its limit."""

    type, status, title = "body-too-large", 413, "Request body too large"


class PoolError(TenantFusionError):
    type, status, title = "pool-error", 502, "Resource pool error"


class PoolUnreachable(PoolError):
    type, status, title = "pool-unreachable", 502, "Resource pool unreachable"


class PoolTimeout(PoolUnreachable):
    type, status, title = "pool-timeout", 504, "Resource pool did not answer in time"


class PoolAuthFailed(PoolError):
    type, status, title = "pool-auth-failed", 422, "Resource pool rejected the credential"


class PoolNotAdmin(PoolError):
    type, status, title = "pool-not-admin", 422, "Pool credential lacks admin rights"


class PoolConflict(PoolError):
    type, status, title = "pool-conflict", 409, "Resource pool reported a conflict"


class PoolQuotaExceeded(PoolError):
    type, status, title = "pool-quota-exceeded", 409, "Resource pool quota exceeded"


class PoolRejected(PoolError):
    """The pool refused the request as invalid (its HTTP 400)."""

    type, status, title = "pool-rejected", 422, "Resource pool rejected the request"


class PoolObjectNotFound(PoolError):
    type, status, title = "pool-object-not-found", 404, "Object not found in the pool"


class TooManyAttempts(TenantFusionError):
    """Too many failed logins or rejected signatures; ``retry_after`` (seconds) goes to the
    Retry-After header."""

    type, status, title = "too-many-attempts", 429, "Too many failed attempts"


class LoginBusy(TenantFusionError):
    type, status, title = "login-busy", 503, "Too many logins in progress"


class PoolUnavailable(TenantFusionError):
    type, status, title = "pool-unavailable", 503, "Resource pool unavailable"


class StepFailed(TenantFusionError):
    type, status, title = "step-failed", 502, "Provisioning step failed"


class ExcessPrivilege(StepFailed):
    """A tenant's pool user effectively holds roles beyond ``member`` on its project."""

    type, title = "excess-privilege", "Pool user holds more than its project's member role"
