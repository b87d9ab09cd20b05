"""Login under a 100-request guessing burst: do the other routes keep answering?

    .venv/bin/python bench/bench_security.py [--burst 100]

Serves tenantfusion (SQLite, one process) twice in one run: protected (the defaults:
2 concurrent password checks, lockout after 5 failures) and unprotected (100 concurrent
checks, no lockout: what main did). Each time: p50/p99 of GET /v1/tenants + /healthz
alone, then during a burst of wrong-password logins fired at once; the burst's outcomes.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import pct, served  # noqa: E402

PASSWORD = "bench-admin-password"


def reads(base: str, headers: dict[str, str], stop: Event, out: Queue[list[float]]) -> None:
    """Sequential reads until ``stop`` (in its own process, so the burst's client threads
    do not slow the measuring side); a read unanswered in 20 s counts as 20 s."""
    latencies: list[float] = []
    with httpx.Client(base_url=base, timeout=20) as c:
        i = 0
        while not stop.is_set():
            started = time.perf_counter()
            try:
                r = c.get("/v1/tenants" if i % 2 else "/healthz", headers=headers)
                assert r.status_code == 200, r.text
            except httpx.TimeoutException:
                pass
            latencies.append((time.perf_counter() - started) * 1000)
            i += 1
    out.put(latencies)


def measure(base: str, headers: dict[str, str], during: Callable[[], object]) -> list[float]:
    """Latencies of the reads while ``during`` runs (0.5 s margin either side)."""
    stop, out = mp.Event(), mp.Queue()
    reader = mp.Process(target=reads, args=(base, headers, stop, out))
    reader.start()
    time.sleep(0.5)
    during()
    time.sleep(0.5)
    stop.set()
    latencies: list[float] = out.get(timeout=120)
    reader.join()
    return latencies


def run(label: str, extra_env: dict[str, str], burst: int) -> dict[str, object]:
    data = Path(tempfile.mkdtemp(prefix="tf-bench-sec-"))
    env = {
        "TENANTFUSION_DATA_DIR": str(data),
        "TENANTFUSION_SECRET_KEY": Fernet.generate_key().decode(),
        "TENANTFUSION_RUN_WORKER": "false",
        "TENANTFUSION_LOG_LEVEL": "ERROR",
        **extra_env,
    }
    subprocess.run(
        [
            str(ROOT / ".venv/bin/tenantfusion"),
            "admin",
            "create",
            "--username",
            "root",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    with served(env) as base:
        r = httpx.post(f"{base}/v1/auth/tokens", json={"username": "root", "password": PASSWORD})
        headers = {"X-Auth-Token": r.json()["token"]}
        alone = measure(base, headers, lambda: time.sleep(5))
        codes: list[int] = []
        limits = httpx.Limits(max_connections=burst, max_keepalive_connections=burst)
        with httpx.Client(base_url=base, timeout=120, limits=limits) as guesser:

            def guess(i: int) -> int:
                body = {"username": "root", "password": f"guess-{i:04d}"}
                return guesser.post("/v1/auth/tokens", json=body).status_code

            def fire() -> None:
                with ThreadPoolExecutor(max_workers=burst) as pool:
                    codes.extend(pool.map(guess, range(burst)))

            started = time.perf_counter()
            during = measure(base, headers, fire)
            burst_s = time.perf_counter() - started - 1.0
        right = httpx.post(
            f"{base}/v1/auth/tokens", json={"username": "root", "password": PASSWORD}
        )
    outcomes = {code: codes.count(code) for code in sorted(set(codes))}
    return {
        "label": label,
        "alone": (pct(alone, 0.5), pct(alone, 0.99), len(alone)),
        "during": (pct(during, 0.5), pct(during, 0.99), len(during)),
        "burst_s": burst_s,
        "outcomes": outcomes,
        "right_password_after": right.status_code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args()
    results = [
        run("protected (defaults)", {}, args.burst),
        run(
            "unprotected (like main)",
            {
                "TENANTFUSION_LOGIN_CONCURRENCY": "1000",
                "TENANTFUSION_LOGIN_MAX_FAILURES": "1000000",
            },
            args.burst,
        ),
    ]
    print(f"\nlogin burst: {args.burst} wrong passwords at once; others: GET /v1/tenants, /healthz")
    print(
        "| server | others alone p50 / p99 | others during the burst p50 / p99 | burst took"
        " | login answers | right password after |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        a, d = r["alone"], r["during"]
        alone = f"{a[0]:.1f} / {a[1]:.1f} ms (n={a[2]})"  # type: ignore[index]
        during = f"{d[0]:.1f} / {d[1]:.1f} ms (n={d[2]})"  # type: ignore[index]
        print(
            f"| {r['label']} | {alone} | {during} | {r['burst_s']:.2f} s"
            f" | {r['outcomes']} | {r['right_password_after']} |"
        )


if __name__ == "__main__":
    main()
