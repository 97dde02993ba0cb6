"""Benchmark: signed POST -> 202 on the webhook route, against a bare aiohttp 202 handler in the same run.

Run: .venv/bin/python bench/webhook.py [--seconds 10] [--concurrency 32]
Starts an embedded nats-server and `sparks run intake` (webhook enabled) as separate processes, then
loads both servers from this process with httpx. Prints requests/s and p50/p99 latency for each and
their ratio. A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

from services.runtime.embedded_server import EmbeddedNats, free_port

SECRET = "bench-secret"
BARE_SERVER = """
import sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.json_response({"status": "accepted"}, status=202)
app = web.Application()
app.router.add_post("/webhook", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def signed(n: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"title": f"Benchmark ticket {n}", "description": "x" * 900, "labels": ["bench"]}).encode()
    sig = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Sparks-Signature": "sha256=" + sig}


async def wait_listening(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                await client.get(url)
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"nothing listened at {url}")


async def load(url: str, seconds: float, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(10**9))
    deadline = time.monotonic() + seconds
    # aiohttp's client: httpx costs several times more CPU per request and would measure itself.
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                body, headers = signed(next(counter))
                start = time.perf_counter()
                async with client.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - start)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "requests": len(latencies),
        "non_202": sum(v for k, v in statuses.items() if k != 202),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedNats(Path(tmp) / "nats", free_port())
        await server.start()
        port, bare_port = free_port(), free_port()
        (Path(tmp) / "sparks.toml").write_text(
            f'[nats]\nurl = "{server.url}"\n[ticket_intake.webhook]\nenabled = true\nbind = "127.0.0.1:{port}"\n'
            'rate_limit_per_minute = 100000000\nroutes = ["generic"]\n'
        )
        env = {**os.environ, "SPARKS_WEBHOOK_SECRET": SECRET}
        intake = subprocess.Popen(
            [sys.executable, "-m", "services.runtime.cli", "--log-level", "warning", "run", "intake"],
            cwd=tmp,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare_port)])
        try:
            await wait_listening(f"http://127.0.0.1:{port}/healthz")
            await wait_listening(f"http://127.0.0.1:{bare_port}/webhook")
            reference = await load(f"http://127.0.0.1:{bare_port}/webhook", args.seconds, args.concurrency)
            sparks = await load(f"http://127.0.0.1:{port}/webhook", args.seconds, args.concurrency)
        finally:
            intake.terminate()
            bare.terminate()
            intake.wait(10)
            bare.wait(10)
            await server.stop()
    result = {
        "reference_bare_aiohttp": reference,
        "sparks_webhook": sparks,
        "throughput_ratio": sparks["requests_per_s"] / reference["requests_per_s"],
        "p99_ratio": sparks["p99_ms"] / reference["p99_ms"],
        "concurrency": args.concurrency,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, r in (("bare aiohttp 202 (reference)", reference), ("sparks signed webhook -> 202", sparks)):
        print(
            f"{name:<32} {r['requests_per_s']:8.0f} req/s   p50 {r['p50_ms']:6.2f} ms   p99 {r['p99_ms']:6.2f} ms   "
            f"({int(r['requests'])} requests, {int(r['non_202'])} not 202)"
        )
    print(
        f"ratio to reference: throughput {result['throughput_ratio']:.2f}x, p99 {result['p99_ratio']:.2f}x "
        f"(concurrency {args.concurrency}, {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    asyncio.run(main())
