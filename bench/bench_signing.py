"""Signed API keys: HMAC verification cost per request, and cached-read throughput with
RFC 9421 signatures vs bearer tokens, measured in the same run against one server.

1. In process: ``signing.verify`` (parse Signature-Input/Signature, rebuild the signature
   base, HMAC-SHA256, Content-Digest of the body) over distinct signed requests; and the
   nonce claim in the shared store (SQLite here) that each signed request adds.
2. Over HTTP: ``tenantfusion serve`` on SQLite; ``GET /v1/auth/tokens`` (token cache hit
   for bearer; key cache hit + nonce insert for signatures), requests built and signed
   before the clock starts so the client's own signing does not count; bearer and signed
   phases alternate (which goes first alternates too), several rounds; the ratio is given
   per round (its median) and over all requests. Besides throughput (which other work on
   the machine sways), the server's own CPU time per request in each phase, and the load
   average.

Usage: .venv/bin/python bench/bench_signing.py [--requests 1000] [--rounds 8] [--clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.common import cpu_seconds, pct, served_process  # noqa: E402
from tenantfusion.apikeys.nonces import NonceLedger  # noqa: E402
from tenantfusion.apikeys.signing import Message, request_message, sign, verify  # noqa: E402
from tenantfusion.config import Settings  # noqa: E402
from tenantfusion.db import engine_for, session_factory, upgrade  # noqa: E402
from tenantfusion.platform import service as platform_service  # noqa: E402

PATH = "/v1/auth/tokens"


def signed_request(url: str, key_id: str, secret: str, body: bytes = b"") -> httpx.Request:
    request = httpx.Request("GET", url, content=body)
    sign(
        message=Message(request.method, str(request.url), request.headers),
        body=body,
        key_id=key_id,
        secret=secret,
    )
    return request


def bench_verify(n: int) -> dict[str, float]:
    secret = "tfs_" + "s" * 43
    body = b'{"name": "bench", "flavor": "m1.nano", "image": "cirros"}'
    messages = []
    for i in range(n):
        r = signed_request(
            f"http://127.0.0.1:8080/v1/servers?limit=50&i={i}", "tfk_b", secret, body
        )
        messages.append(
            request_message(method="GET", url=str(r.url), headers=list(r.headers.items()))
        )
    times = []
    for m in messages:
        t = time.perf_counter()
        verify(message=m, body=body, lookup=lambda _: secret.encode())
        times.append((time.perf_counter() - t) * 1e3)
    return {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "mean": statistics.fmean(times)}


def bench_nonce(settings: Settings, n: int) -> dict[str, float]:
    """One claim at a time: each waits for its own commit (no batching to share)."""
    ledger = NonceLedger(engine_for(settings.resolved_database_url))
    created = datetime.now(UTC)

    async def claims() -> list[float]:
        times = []
        for i in range(n):
            t = time.perf_counter()
            assert await ledger.claim(key_id="tfk_b", nonce=f"n-{i:08d}", created=created)
            times.append((time.perf_counter() - t) * 1e3)
        ledger.close()  # on the loop: its writer thread may still run a checkpoint
        return times

    times = asyncio.run(claims())
    return {"p50": pct(times, 0.5), "p95": pct(times, 0.95)}


def run_phase(requests: list[httpx.Request], clients: int) -> tuple[float, list[float]]:
    """Send prebuilt requests from ``clients`` threads; returns (req/s, latencies ms)."""
    chunks = [requests[i::clients] for i in range(clients)]
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[str] = []

    def worker(chunk: list[httpx.Request]) -> None:
        mine = []
        with httpx.Client(timeout=30) as client:
            for request in chunk:
                t = time.perf_counter()
                r = client.send(request)
                mine.append((time.perf_counter() - t) * 1e3)
                if r.status_code != 200:
                    failures.append(r.text[:200])
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert not failures, failures[:3]
    return len(requests) / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    v = bench_verify(2000)
    print(
        f"verify (in process, 2000 signed requests): p50 {v['p50']:.3f} ms, "
        f"p95 {v['p95']:.3f} ms, mean {v['mean']:.3f} ms"
    )
    with tempfile.TemporaryDirectory() as tmp:
        key = Fernet.generate_key().decode()
        url = f"sqlite:///{tmp}/bench.db"
        settings = Settings(database_url=url, secret_key=key, data_dir=Path(tmp))  # type: ignore[arg-type]
        upgrade(settings)
        nonce = bench_nonce(settings, 1000)
        print(
            f"nonce claim (SQLite, one at a time): p50 {nonce['p50']:.3f} ms, "
            f"p95 {nonce['p95']:.3f} ms"
        )
        with session_factory(settings)() as db:
            platform_service.create_platform_admin(db=db, username="root", password="bench-pass-1")
            db.commit()
        env = {
            "TENANTFUSION_DATABASE_URL": url,
            "TENANTFUSION_SECRET_KEY": key,
            "TENANTFUSION_DATA_DIR": tmp,
            "TENANTFUSION_RUN_WORKER": "false",
            "TENANTFUSION_LOG_LEVEL": "WARNING",
        }
        with served_process(env) as (base, pid):
            token = httpx.post(
                f"{base}/v1/auth/tokens", json={"username": "root", "password": "bench-pass-1"}
            ).json()["token"]
            api_key = httpx.post(
                f"{base}/v1/api-keys", headers={"X-Auth-Token": token}, json={"name": "bench"}
            ).json()
            load_before = os.getloadavg()
            rates: dict[str, list[float]] = {"bearer": [], "signed": []}
            cpu: dict[str, list[float]] = {"bearer": [], "signed": []}
            latencies: dict[str, list[float]] = {"bearer": [], "signed": []}
            for round_ in range(args.rounds):
                order = ("bearer", "signed") if round_ % 2 == 0 else ("signed", "bearer")
                for kind in order:  # alternate which goes first: drift in load cancels
                    phase = [
                        httpx.Request("GET", f"{base}{PATH}", headers={"X-Auth-Token": token})
                        if kind == "bearer"
                        else signed_request(f"{base}{PATH}", api_key["key_id"], api_key["secret"])
                        for _ in range(args.requests)
                    ]
                    used = cpu_seconds(pid)
                    rate, lat = run_phase(phase, args.clients)
                    cpu[kind].append((cpu_seconds(pid) - used) / args.requests * 1e3)
                    rates[kind].append(rate)
                    latencies[kind] += lat
            load_after = os.getloadavg()
    report(args, rates, cpu, latencies, (load_before[0], load_after[0]))


def report(
    args: argparse.Namespace,
    rates: dict[str, list[float]],
    cpu: dict[str, list[float]],
    latencies: dict[str, list[float]],
    load: tuple[float, float],
) -> None:
    bearer, signed = rates["bearer"], rates["signed"]
    print(
        f"GET {PATH}, {args.clients} clients, {args.rounds} alternating rounds x "
        f"{args.requests} requests, load average {load[0]:.1f} -> {load[1]:.1f}:"
    )
    for kind, runs in rates.items():
        lat = latencies[kind]
        print(
            f"  {kind:6s}: {statistics.median(runs):.0f} req/s (rounds "
            f"{[round(x) for x in runs]}), p50 {pct(lat, 0.5):.2f} ms, p99 {pct(lat, 0.99):.2f} ms"
        )
    bc, sc = statistics.median(cpu["bearer"]), statistics.median(cpu["signed"])
    print(
        f"  server CPU per request (all threads, less sensitive to other load): bearer "
        f"{bc:.2f} ms, signed {sc:.2f} ms (+{sc - bc:.2f} ms): CPU-bound ratio {bc / sc:.2f}x"
    )
    ratios = [s / b for b, s in zip(bearer, signed, strict=True)]
    print(
        f"  signed / bearer throughput: median of rounds {statistics.median(ratios):.2f}x "
        f"(rounds {[round(r, 2) for r in ratios]}), all requests {sum(signed) / sum(bearer):.2f}x "
        f"(goal >= 0.9x); p50 added "
        f"{pct(latencies['signed'], 0.5) - pct(latencies['bearer'], 0.5):.2f} ms"
    )


if __name__ == "__main__":
    main()
