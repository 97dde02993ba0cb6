"""Memory under sustained load and under a large backlog, on an embedded nats-server.

1. Steady state: 100,000 tickets through all four services (separate processes, dry-run ghost),
   fed with at most 1,000 in flight. Each service's RSS is sampled every 10 % of the run; the
   target is that it stays within +-10 % of its value at 10 % (after warm-up).
2. Backlog: 1,000,000 `ticket.submit` messages stored before intake starts; intake drains them
   while its RSS is sampled. The target is memory bounded by the pull batch, not the backlog.
   The reference: a bare nats-py hop (fetch, publish, ack) draining the same stored backlog.

    python bench/memory_soak.py [--tickets 100000] [--backlog 1000000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nats.js.errors
from nats.aio.msg import Msg

from services.runtime.bench_command import SERVICES, _envelope, _peak_rss_mb, _pipeline, _relay_hop, _with_broker
from services.runtime.bus import Bus
from services.runtime.logging import configure_logging

ROOT = Path(__file__).resolve().parent.parent
IN_FLIGHT = 1000


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _say(text: str) -> None:
    print(f"memory_soak: {text}", file=sys.stderr, flush=True)


async def steady(bus: Bus, url: str, tmp: Path, tickets: int) -> dict[str, Any]:
    """RSS of each service at every 10 % of a long run at saturation."""
    done = 0
    progressed = asyncio.Event()

    async def on_completed(_msg: Msg) -> None:
        nonlocal done
        done += 1
        progressed.set()

    sub = await bus.nc.subscribe("task.completed", cb=on_completed)
    samples: dict[str, list[float]] = {name: [] for name in SERVICES}
    async with _pipeline(url, tmp) as procs:
        await asyncio.sleep(3.0)
        started = time.perf_counter()
        sent, next_mark = 0, tickets // 10
        while done < tickets:
            while sent < tickets and sent - done < IN_FLIGHT:
                await bus.nc.publish("ticket.submit", _envelope(sent, "m"))
                sent += 1
            progressed.clear()
            await asyncio.wait_for(progressed.wait(), 60)
            if done >= next_mark:
                for name, proc in procs.items():
                    samples[name].append(round(_rss_mb(proc.pid), 1))
                _say(f"{done:,}/{tickets:,} tickets, RSS MB { ({n: s[-1] for n, s in samples.items()}) }")
                next_mark += tickets // 10
        elapsed = time.perf_counter() - started
        peak = {name: round(_peak_rss_mb(proc.pid), 1) for name, proc in procs.items()}
    await sub.unsubscribe()
    drift = {name: round(100 * (max(abs(v - s[0]) for v in s) / s[0]), 1) for name, s in samples.items() if s}
    return {
        "tickets": tickets,
        "tickets_per_s": round(tickets / elapsed, 1),
        "rss_mb_every_10pct": samples,
        "max_drift_pct_from_10pct": drift,
        "peak_rss_mb": peak,
    }


async def backlog(bus: Bus, url: str, tmp: Path, messages: int) -> dict[str, Any]:
    """Intake started against `messages` stored submissions; its RSS while it drains them."""
    started = time.perf_counter()
    for n in range(messages):
        await bus.js.publish_async("ticket.submit", _envelope(n, "b"))
        if n % 10_000 == 9_999:
            await bus.js.publish_async_completed()
        if n % 200_000 == 199_999:
            _say(f"stored {n + 1:,} submissions")
    await bus.js.publish_async_completed()
    fill_secs = time.perf_counter() - started
    env = {**os.environ, "NATS_URL": url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.runtime.cli", "--log-level", "error", "run", "intake"],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples: list[tuple[int, float]] = []
    started = time.perf_counter()
    try:
        while True:
            await asyncio.sleep(5.0)
            info = await bus.js.consumer_info(bus.stream, "intake")
            left = (info.num_pending or 0) + (info.num_ack_pending or 0)
            samples.append((messages - left, round(_rss_mb(proc.pid), 1)))
            _say(f"intake drained {messages - left:,}/{messages:,}, RSS {samples[-1][1]} MB")
            if left == 0:
                break
        drain_secs = time.perf_counter() - started
        peak = round(_peak_rss_mb(proc.pid), 1)
    finally:
        proc.terminate()
        proc.wait(30)
    # The reference, on the same stored backlog: a bare nats-py hop (fetch, publish, ack; no work).
    started = time.perf_counter()
    stop = asyncio.Event()
    relay = asyncio.create_task(_relay_hop(bus, "ticket.submit", "ticket.relayed", stop))
    while True:
        await asyncio.sleep(2.0)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            info = await bus.js.consumer_info(bus.stream, "relay-ticket-submit")
            if (info.num_pending or 0) + (info.num_ack_pending or 0) == 0:
                break
    stop.set()
    await relay
    relay_secs = time.perf_counter() - started
    return {
        "backlog": messages,
        "relay_drained_per_s": round(messages / relay_secs, 1),
        "drain_ratio": round(relay_secs / drain_secs, 3),
        "fill_secs": round(fill_secs, 1),
        "drain_secs": round(drain_secs, 1),
        "drained_per_s": round(messages / drain_secs, 1),
        "intake_rss_mb_first_sample": samples[0][1],
        "intake_rss_mb_last_sample": samples[-1][1],
        "intake_peak_rss_mb": peak,
        "samples": samples,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets in the steady-state run")
    parser.add_argument("--backlog", type=int, default=1_000_000, help="stored submissions intake drains")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging("warning")  # stdout carries only the result
    result: dict[str, Any] = {"cores": os.cpu_count()}
    if args.tickets:
        result["steady"] = await _with_broker(lambda bus, url, tmp: steady(bus, url, tmp, args.tickets))
    if args.backlog:
        result["backlog"] = await _with_broker(lambda bus, url, tmp: backlog(bus, url, tmp, args.backlog))
    if args.json:
        print(json.dumps(result))
        return
    if s := result.get("steady"):
        print(f"steady state: {s['tickets']:,} tickets at {s['tickets_per_s']:,.0f}/s")
        for name, values in s["rss_mb_every_10pct"].items():
            print(f"  {name:<11} RSS MB {values}  max drift {s['max_drift_pct_from_10pct'][name]} %")
    if b := result.get("backlog"):
        print(
            f"backlog: {b['backlog']:,} stored submissions drained by intake in {b['drain_secs']:,.0f} s "
            f"({b['drained_per_s']:,.0f}/s; a bare relay hop {b['relay_drained_per_s']:,.0f}/s, ratio "
            f"{b['drain_ratio']:.2f}); intake RSS {b['intake_rss_mb_first_sample']} -> "
            f"{b['intake_rss_mb_last_sample']} MB, peak {b['intake_peak_rss_mb']} MB"
        )


if __name__ == "__main__":
    asyncio.run(main())
