"""Values read from the database, reused on the event loop while nothing they depend on
has changed.

A request that waits for its pool on the event loop (the facade's pass-through, a v1
list) would first go to a worker thread for a few small reads: the pool, the tenant's
mapping there, the tenant's routing records. Their outcome is reused instead: for
``short`` seconds whatever happens, then up to ``long`` seconds while the epoch of the
cache's ``Scope`` is unchanged. A write of that scope committed in this process drops
every value of the scope at once; one committed by another replica ends them once this
process's watcher sees the epoch move. Values are read only: the ORM objects in them are
detached and never written through.
"""

from __future__ import annotations

import threading
import weakref
from typing import Generic, TypeVar

from tenantfusion.coherence.models import Scope
from tenantfusion.coherence.service import Stamp as _Stamp
from tenantfusion.coherence.service import current, on_change, stamp

SECONDS = 1.0
KEEP_SECONDS = 60.0

K = TypeVar("K")
V = TypeVar("V")

_all: dict[Scope, weakref.WeakSet[Reuse[object, object]]] = {s: weakref.WeakSet() for s in Scope}


class Reuse(Generic[K, V]):
    """Values kept a while each (see the module), all dropped on a committed change of
    their ``scope``."""

    def __init__(
        self, *, scope: Scope = Scope.identity, short: float = SECONDS, long: float = KEEP_SECONDS
    ) -> None:
        self.scope, self._short, self._long = scope, short, long
        self._items: dict[K, tuple[_Stamp, V]] = {}
        self._lock = threading.Lock()
        _all[scope].add(self)  # type: ignore[arg-type]

    def epoch(self) -> int | None:
        """The scope's epoch now: read it *before* the reads a value comes from."""
        return current(self.scope)

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        return found[1] if found is not None and found[0].valid() else None

    def put(self, key: K, value: V, *, epoch: int | None) -> None:
        """Keep ``value``, read while ``epoch`` was current (``epoch()``)."""
        kept = stamp(epoch=epoch, short=self._short, long=self._long, scope=self.scope)
        with self._lock:
            self._items[key] = (kept, value)

    def drop(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _forgetter(scope: Scope) -> None:
    def forget() -> None:
        for reuse in list(_all[scope]):
            reuse.clear()

    on_change(forget, scope=scope)


for _scope in Scope:
    _forgetter(_scope)
