"""Login under a 100-request guessing burst: do the other routes keep answering?

    .venv/bin/python bench/bench_security.py [--burst 100]

Serves tenantfusion (SQLite, one process) twice in one run: protected (the defaults:
2 concurrent password checks, lockout after 5 failures) and unprotected (100 concurrent
checks, no lockout: what main did). Each time: p50/p99 of GET /v1/tenants + /healthz
alone, then during a burst of wrong-password logins fired at once; the burst's outcomes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import pct, served  # noqa: E402

PASSWORD = "bench-admin-password"


def reads(base: str, headers: dict[str, str], stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=base, timeout=60) as c:
        i = 0
        while not stop.is_set():
            started = time.perf_counter()
            r = c.get("/v1/tenants" if i % 2 else "/healthz", headers=headers)
            assert r.status_code == 200, r.text
            out.append((time.perf_counter() - started) * 1000)
            i += 1


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
        # alone
        alone: list[float] = []
        stop = threading.Event()
        t = threading.Thread(target=reads, args=(base, headers, stop, alone))
        t.start()
        time.sleep(5)
        stop.set()
        t.join()
        # during the burst
        during: list[float] = []
        stop = threading.Event()
        t = threading.Thread(target=reads, args=(base, headers, stop, during))
        t.start()
        time.sleep(0.5)

        def guess(i: int) -> int:
            body = {"username": "root", "password": f"guess-{i:04d}"}
            with httpx.Client(base_url=base, timeout=120) as c:
                return c.post("/v1/auth/tokens", json=body).status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=burst) as pool:
            codes = list(pool.map(guess, range(burst)))
        burst_s = time.perf_counter() - started
        time.sleep(0.5)
        stop.set()
        t.join()
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
