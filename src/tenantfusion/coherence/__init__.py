"""Cache coherence across replicas: epoch counters in the database (one per ``Scope``),
bumped in the same transaction as every write that an in-process cache depends on
(tokens, users, tenants, mappings, pools; routing records), and watched by each process,
which drops its caches of a scope when its epoch changes.

So caches of validated tokens and of a tenant's way into a pool (``platform.token_cache``,
``coherence.reuse``) can be kept for a minute instead of half a second, and a revocation
or a disable made on any replica is still seen everywhere within ``POLL_SECONDS``.
"""

from tenantfusion.coherence.models import Scope
from tenantfusion.coherence.service import (
    NEUTRAL,
    Stamp,
    Watcher,
    current,
    on_change,
    stamp,
)

__all__ = ["NEUTRAL", "Scope", "Stamp", "Watcher", "current", "on_change", "stamp"]
