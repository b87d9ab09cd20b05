"""Image data through the facade on a real full test-bed pool: one served tenantfusion
(SQLite) streams ``PUT /image/<pool>/v2/images/<id>/file`` to Glance. Per size: the time
through the facade vs straight to the pool's Glance (the pool admin's token), the served
process's CPU per GiB and its RSS (sampled every 10 ms) before and at most during the
upload: a body held whole would add the body's size.

    .venv/bin/python bench/bench_upload.py [--mib 64 256] [--max-body-bytes N]

``--max-body-bytes`` raises the served process's body limit: before image data streamed,
that was the only way to upload an image through the facade (held whole).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.compat.conftest import new_tenant, served_facade  # noqa: E402
from tests.conftest import TESTBED_ROOT  # noqa: E402

from bench.common import cpu_seconds  # noqa: E402
from tenantfusion.testbed import connect, ensure_pools  # noqa: E402
from tenantfusion.testbed.process import children  # noqa: E402

CHUNK = 256 * 1024
OCTETS = {"Content-Type": "application/octet-stream"}
RAW = {"disk_format": "raw", "container_format": "bare"}


def status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory field (``VmHWM``, ``VmRSS``) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def served_pid() -> int:
    """The `tenantfusion serve` process this bench started."""
    for pid in children(os.getpid()):
        if b"serve" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise RuntimeError("no served tenantfusion among this process's children")


def most_rss(pid: int, stop: threading.Event, seen: list[int]) -> None:
    """Append ``pid``'s VmRSS (KiB) to ``seen`` every 10 ms until ``stop``."""
    while not stop.wait(0.01):
        seen.append(status_kib(pid, "VmRSS"))


def zeros(size: int) -> Iterator[bytes]:
    block = bytes(CHUNK)
    for start in range(0, size, CHUNK):
        yield block[: min(CHUNK, size - start)]


def upload(glance: httpx.Client, size: int) -> float:
    """Seconds to create an image and upload ``size`` bytes (with Content-Length); the
    image is deleted after."""
    image = glance.post("/v2/images", json={"name": "bench-upload", **RAW}).json()["id"]
    headers = {**OCTETS, "Content-Length": str(size)}
    started = time.perf_counter()
    r = glance.put(f"/v2/images/{image}/file", headers=headers, content=zeros(size))
    took = time.perf_counter() - started
    assert r.status_code == 204, r.text
    assert glance.get(f"/v2/images/{image}").json()["size"] == size
    assert glance.delete(f"/v2/images/{image}").status_code == 204
    return took


def main(sizes: list[int], max_body_bytes: int | None) -> None:
    info = ensure_pools(count=2, kind="full", root=TESTBED_ROOT)[0]
    direct = httpx.Client(
        base_url=f"http://127.0.0.1:{info.ports['glance']}",
        headers={"X-Auth-Token": str(connect(info).session.get_token())},
        timeout=600,
        trust_env=False,
    )
    env = {"TENANTFUSION_MAX_IMAGE_BYTES": str(max(sizes) * 1024 * 1024)}
    if max_body_bytes is not None:
        env["TENANTFUSION_MAX_BODY_BYTES"] = str(max_body_bytes)
    data = Path(tempfile.mkdtemp(prefix="tf-bench-upload-"))
    with (
        served_facade(data, **env) as facade,
        new_tenant(facade) as tenant,
        httpx.Client(
            base_url=f"{facade.url}/image/east",
            headers=tenant.headers(),
            timeout=600,
            trust_env=False,
        ) as glance,
    ):
        pid = served_pid()
        upload(glance, 1024)  # onboarding and the pool session, outside the measure
        print(f"served process: VmRSS {status_kib(pid, 'VmRSS') / 1024:.1f} MiB after warm-up")
        for mib in sizes:
            size = mib * 1024 * 1024
            straight = upload(direct, size)
            before, cpu = status_kib(pid, "VmRSS"), cpu_seconds(pid)
            stop, seen = threading.Event(), [before]
            sampler = threading.Thread(target=most_rss, args=(pid, stop, seen))
            sampler.start()
            try:
                through = upload(glance, size)
            finally:
                stop.set()
                sampler.join()
            cpu = cpu_seconds(pid) - cpu
            print(
                f"{mib:5d} MiB: direct {straight:6.2f} s ({mib / straight:6.1f} MiB/s), "
                f"facade {through:6.2f} s ({mib / through:6.1f} MiB/s); served CPU "
                f"{cpu / mib * 1024:5.1f} s/GiB; RSS {before / 1024:.1f} MiB before, "
                f"at most +{(max(seen) - before) / 1024:.1f} MiB during ({len(seen)} samples)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--max-body-bytes", type=int, default=None)
    args = parser.parse_args()
    main(args.mib, args.max_body_bytes)
