"""``tenantfusion serve`` with the scale bench's POOL SIMULATOR drivers registered first
(bench/simpool.py: driver kinds ``sim`` and ``simhttp``). For bench_scale.py only.

    .venv/bin/python bench/scale_serve.py serve --port PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench import simpool  # noqa: E402
from tenantfusion.cli import app  # noqa: E402

if __name__ == "__main__":
    simpool.register()
    app()
