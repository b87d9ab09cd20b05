"""What a tenant's mapping and pool rows give, reused on the event loop for a moment.

A request that waits for its pool on the event loop (the facade's pass-through, a list
of one pool) would first go to a worker thread for two small reads: the pool and the
tenant's mapping there. Their outcome is reused instead for ``SECONDS``: any write to a
mapping or a pool in this process drops every reused value at once (deprovisioned,
credential replaced, pool disabled...); one made by another replica is seen this late,
as the scheduler's roster (``pools.service.ROSTER_CHECK_SECONDS``). Values are read only:
the ORM objects in them are detached and never written through.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Generic, TypeVar

from sqlalchemy import event

from tenantfusion.mapping.models import Mapping
from tenantfusion.pools.models import Pool

SECONDS = 1.0

K = TypeVar("K")
V = TypeVar("V")

_all: weakref.WeakSet[Reuse[object, object]] = weakref.WeakSet()


class Reuse(Generic[K, V]):
    """Values kept ``SECONDS`` each, all dropped on any mapping or pool write."""

    def __init__(self) -> None:
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        _all.add(self)  # type: ignore[arg-type]

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + SECONDS, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def forget(*_: object) -> None:
    """Drop every reused value (a mapping or a pool was written in this process)."""
    for reuse in list(_all):
        reuse.clear()


for _model in (Mapping, Pool):
    for _change in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _change, forget)
