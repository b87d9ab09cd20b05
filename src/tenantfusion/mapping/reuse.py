"""What a tenant's mapping and pool rows give, reused on the event loop.

A request that waits for its pool on the event loop (the facade's pass-through, a list
of one pool) would first go to a worker thread for two small reads: the pool and the
tenant's mapping there. Their outcome is reused instead: for ``SECONDS`` whatever
happens, then up to ``KEEP_SECONDS`` while the cache epoch is unchanged (``coherence``).
A write to a mapping or a pool (deprovisioned, credential replaced, pool disabled...)
committed in this process drops every reused value at once; one committed by another
replica ends them once this process's watcher sees the epoch move. Values are read only:
the ORM objects in them are detached and never written through.
"""

from __future__ import annotations

import threading
import weakref
from typing import Generic, TypeVar

from tenantfusion import coherence

SECONDS = 1.0
KEEP_SECONDS = 60.0

K = TypeVar("K")
V = TypeVar("V")

_all: weakref.WeakSet[Reuse[object, object]] = weakref.WeakSet()


class Reuse(Generic[K, V]):
    """Values kept a while each (see the module), all dropped on any committed change."""

    def __init__(self) -> None:
        self._items: dict[K, tuple[coherence.Stamp, V]] = {}
        self._lock = threading.Lock()
        _all.add(self)  # type: ignore[arg-type]

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        return found[1] if found is not None and found[0].valid() else None

    def put(self, key: K, value: V, *, epoch: int | None) -> None:
        """Keep ``value``, read while ``epoch`` was current (``coherence.current()``)."""
        kept = coherence.stamp(epoch=epoch, short=SECONDS, long=KEEP_SECONDS)
        with self._lock:
            self._items[key] = (kept, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def forget() -> None:
    """Drop every reused value."""
    for reuse in list(_all):
        reuse.clear()


coherence.on_change(forget)
