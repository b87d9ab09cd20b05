"""The one place where keystoneauth/openstacksdk exceptions become PoolError subclasses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as sdk_exc

from tenantfusion.errors import PoolAuthFailed, PoolError, PoolUnreachable
from tenantfusion.metrics import POOL_CALLS
from tenantfusion.pools import breaker
from tenantfusion.pools.http_errors import error_for


def _status_of(exc: Exception) -> int | None:
    return getattr(exc, "status_code", None) or getattr(exc, "http_status", None)


@contextmanager
def translate(pool: str, operation: str, *, closes: bool = True) -> Iterator[None]:
    """Map keystoneauth/openstacksdk exceptions to PoolError subclasses (the one place), and
    tell the pool's breaker how the call went (unreachable, timed out, 5xx or slow: failed).
    ``closes=False``: a step that may answer from a cache; its failures count, its success
    neither closes the circuit nor takes the half-open trial."""
    breaker.before_call(pool, trial=closes)
    outcome = "ok"
    started = time.monotonic()
    try:
        yield
    except (
        ksa_exc.ConnectFailure,
        ksa_exc.ConnectTimeout,
        ksa_exc.DiscoveryFailure,
        ksa_exc.RetriableConnectionFailure,
    ) as e:
        outcome = "unreachable"
        raise PoolUnreachable(f"pool {pool} did not answer ({operation})", pool=pool) from e
    except ksa_exc.Unauthorized as e:
        outcome = "auth_failed"
        raise PoolAuthFailed(f"pool {pool} rejected the credential", pool=pool) from e
    except (ksa_exc.HttpError, sdk_exc.HttpException) as e:
        status = _status_of(e)
        outcome = f"http_{status}"
        said = getattr(e, "details", None) or getattr(e, "message", "") or str(e)
        message = f"pool {pool}: {operation} failed: {said}"
        error = error_for(pool=pool, status=status, message=message)
        if isinstance(error, PoolUnreachable):
            outcome = "unreachable"
        raise error from e
    except (ksa_exc.ClientException, sdk_exc.SDKException) as e:
        outcome = "error"
        raise PoolError(f"pool {pool}: {operation} failed: {type(e).__name__}", pool=pool) from e
    finally:
        failed = outcome == "unreachable" or outcome.startswith("http_5")
        breaker.after_call(pool, failed=failed, seconds=time.monotonic() - started, closes=closes)
        POOL_CALLS.labels(pool=pool, operation=operation, outcome=outcome).inc()
