"""The server process's heap: what start-up made is taken out of the garbage collector's
full passes."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect once, then move every object alive now (modules, classes, routes, compiled
    schemas: about 250,000 in a served app) into the collector's permanent generation, so
    a full collection walks only what was made since. Measured with
    ``bench/bench_console.py`` (a request making ~20,000 objects triggers one every few
    requests): a full collection cost about 170 ms of CPU before, 11 ms after. Frozen
    objects are never freed by the collector, which start-up objects never are anyway.

    Returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
