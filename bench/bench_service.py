"""PumpDx service benchmark: latency and throughput of the CDS Hooks call.

    .venv/bin/python bench/bench_service.py                 # 1 worker, then 2 workers
    .venv/bin/python bench/bench_service.py --calls 1000 --concurrency 32

Starts `pumpdx serve` on 127.0.0.1 as in production (JWT authentication on, ES384 tokens,
a fresh jti per call) and calls `POST /cds-services/pumpdx-troubleshoot` with the FHIR
prefetch of a withdrawal with an empty reservoir (and three other records in turn):
- latency: calls one after another over one keep-alive connection, p50 and p95 of the
  wall-clock time per call (tokens are signed before the clock starts);
- throughput: the same calls with N in flight at once, calls per second.
The machine's load average is printed with the figures (timing on a shared machine is
noisy).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.service_support import (
    HOOK,
    ISSUER,
    Signer,
    bundle,
    condition,
    hook_call,
    observation,
    serve,
    withdrawal_prefetch,
)


def records() -> list[dict[str, Any]]:
    empty = withdrawal_prefetch(reservoir_ml=0)
    full = withdrawal_prefetch(reservoir_ml=15)
    overdose = withdrawal_prefetch(reservoir_ml=1)
    overdose["conditions"] = bundle(condition("problem-overdose"))
    overdose["observations"] = bundle(observation("sign-respiratory-depression"))
    mixed = withdrawal_prefetch(reservoir_ml=0)
    mixed["conditions"]["entry"].append({"resource": condition("problem-overdose")})
    return [empty, full, overdose, mixed]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(url: str, signer: Signer, calls: int, concurrency: int) -> dict[str, float]:
    endpoint = url + HOOK
    bodies = [hook_call(records()[i % 4]) for i in range(calls)]
    tokens = [signer.token(endpoint) for _ in range(calls)]
    with httpx.Client(timeout=120) as client:
        for i in range(20):  # warm-up
            client.post(endpoint, json=bodies[i % 4],
                        headers={"Authorization": f"Bearer {signer.token(endpoint)}"})
        times = []
        for body, token in zip(bodies, tokens, strict=True):
            start = time.perf_counter()
            r = client.post(endpoint, json=body, headers={"Authorization": f"Bearer {token}"})
            times.append(time.perf_counter() - start)
            if r.status_code != 200:
                raise SystemExit(f"call failed: {r.status_code} {r.text[:200]}")
    tokens = [signer.token(endpoint) for _ in range(calls)]

    async def flood() -> float:
        limits = httpx.Limits(max_connections=concurrency)
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(timeout=300, limits=limits) as client:
            async def one(body: dict[str, Any], token: str) -> None:
                async with gate:
                    r = await client.post(endpoint, json=body,
                                          headers={"Authorization": f"Bearer {token}"})
                    if r.status_code != 200:
                        raise SystemExit(f"call failed: {r.status_code} {r.text[:200]}")

            start = time.perf_counter()
            await asyncio.gather(*(one(b, t) for b, t in zip(bodies, tokens, strict=True)))
            return time.perf_counter() - start

    elapsed = asyncio.run(flood())
    return {"p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * percentile(times, 0.95),
            "throughput": calls / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, action="append",
                        help="worker counts to measure (default 1 and 2)")
    args = parser.parse_args()
    signer = Signer()
    print(f"PumpDx service benchmark: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.calls} CDS Hooks patient-view calls (FHIR prefetch, ES384 JWT), "
          f"throughput with {args.concurrency} in flight")
    with tempfile.TemporaryDirectory() as tmp:
        jwks = Path(tmp) / "jwks.json"
        jwks.write_text(json.dumps(signer.jwks()))
        for workers in args.workers or [1, 2]:
            with serve(Path(tmp), "--jwks", str(jwks), "--issuer", ISSUER, "--rate-limit",
                       "0", "--workers", str(workers)) as server:
                m = measure(server.url, signer, args.calls, args.concurrency)
            print(f"  {workers} worker(s): latency p50 {m['p50_ms']:.1f} ms, p95 "
                  f"{m['p95_ms']:.1f} ms; throughput {m['throughput']:.0f} calls/s")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
