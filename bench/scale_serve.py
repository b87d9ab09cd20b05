"""``tenantfusion serve`` with the scale bench's POOL SIMULATOR drivers registered first
(bench/simpool.py: driver kinds ``sim`` and ``simhttp``). For bench_scale.py only.

With ``TF_BENCH_SAMPLES=FILE`` a thread samples every thread's stack every 10 ms and, at
exit, writes where busy threads were (innermost tenantfusion frame and the frame on top).

    .venv/bin/python bench/scale_serve.py serve --port PORT
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench import simpool  # noqa: E402
from tenantfusion.cli import app  # noqa: E402

#: Frames on top of an idle thread (waiting for work, a lock or a socket event loop).
IDLE = {"wait", "select", "get", "_worker", "acquire", "sleep", "poll", "run_forever"}


def sample(counts: collections.Counter[str], stop: threading.Event) -> None:
    me = threading.get_ident()
    while not stop.is_set():
        for ident, frame in sys._current_frames().items():
            if ident == me or frame.f_code.co_name in IDLE:
                continue
            if frame.f_code.co_filename.endswith("asyncio/runners.py"):
                continue  # the event loop in uvloop's C code: mostly waiting on sockets
            top = f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"
            ours, f = "", frame
            while f is not None:
                if "/tenantfusion/" in f.f_code.co_filename:
                    ours = f"{f.f_code.co_filename.split('/tenantfusion/')[1]}:{f.f_code.co_name}"
                    break
                f = f.f_back
            counts[f"{ours or '-'} <- {top}"] += 1
        time.sleep(0.01)


if __name__ == "__main__":
    simpool.register()
    out = os.environ.get("TF_BENCH_SAMPLES")
    counts: collections.Counter[str] = collections.Counter()
    stop = threading.Event()
    if out:
        threading.Thread(target=sample, args=(counts, stop), daemon=True).start()
    try:
        app()
    finally:
        stop.set()
        if out:
            total = sum(counts.values()) or 1
            lines = [f"{n * 100 / total:5.1f}%  {k}" for k, n in counts.most_common(15)]
            Path(out).write_text("\n".join(lines) + "\n")
