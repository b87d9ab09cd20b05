"""What a pool's HTTP error answer means, as a PoolError (one mapping for every caller:
the SDK's exceptions in ``drivers.openstack_errors`` and the event loop's own calls in
``pools.aio``)."""

from __future__ import annotations

from tenantfusion.errors import (
    PoolAuthFailed,
    PoolConflict,
    PoolError,
    PoolNotAdmin,
    PoolObjectNotFound,
    PoolQuotaExceeded,
    PoolRejected,
    PoolUnreachable,
)


def error_for(*, pool: str, status: int | None, message: str) -> PoolError:
    """The error of an answer ``status`` from ``pool``; ``message`` names the operation
    and what the pool said."""
    if status == 401:
        return PoolAuthFailed(f"pool {pool} rejected the credential", pool=pool)
    if "quota" in message.lower() and status in (403, 409, 413):
        return PoolQuotaExceeded(message, pool=pool)
    if status == 400:
        return PoolRejected(message, pool=pool)
    if status == 403:
        return PoolNotAdmin(message, pool=pool)
    if status == 404:
        return PoolObjectNotFound(message, pool=pool)
    if status == 409:
        return PoolConflict(message, pool=pool)
    if status in (502, 503, 504):
        return PoolUnreachable(message, pool=pool)
    return PoolError(message, pool=pool)
