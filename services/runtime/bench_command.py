"""`sparks bench`: the whole pipeline against a bare four-hop relay on the same broker, in one run.

Both get the same 1 KB tickets on an embedded nats-server. The relay is plain nats-py (fetch,
publish, ack; no work); the pipeline is the four services as separate processes (`sparks run`, as
compose deploys them) and then all four in one process (as `sparks up` runs them), with the
dry-run ghost and writeback to the log. Measured: throughput at saturation (a backlog of
tickets), latency submit -> task.completed at a fixed offered rate, and each service's peak RSS.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nats.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from services.runtime.bus import Bus, connect
from services.runtime.config import NatsConfig
from services.runtime.embedded_server import EmbeddedNats, free_port

HOPS = ["ticket.submit", "ticket.received", "ticket.scanned", "task.completed", "ticket.written_back"]
SERVICES = ["intake", "scanner", "dispatcher", "writeback"]


def _envelope(n: int, run: str) -> bytes:
    return json.dumps({"title": f"bench {run} {n}", "id": f"{run}-{n}", "description": "x" * 900}).encode()


async def _relay_hop(bus: Bus, source: str, target: str, stop: asyncio.Event) -> None:
    durable = f"relay-{source.replace('.', '-')}"
    await bus.js.add_consumer(
        bus.stream,
        ConsumerConfig(
            durable_name=durable, filter_subject=source, ack_policy=AckPolicy.EXPLICIT, max_ack_pending=1000
        ),
    )
    sub = await bus.js.pull_subscribe_bind(durable=durable, stream=bus.stream)
    while not stop.is_set():
        try:
            msgs = await sub.fetch(100, timeout=0.5)
        except (nats.errors.TimeoutError, TimeoutError):
            continue
        acks = [
            await bus.js.publish_async(
                target, m.data, headers={"Nats-Msg-Id": f"{target}:{m.metadata.sequence.stream}"}
            )
            for m in msgs
        ]
        await asyncio.gather(*acks)
        for m in msgs:
            await m.ack()


@contextlib.asynccontextmanager
async def _relay(bus: Bus) -> Any:
    stop = asyncio.Event()
    # Four hops, like the four services: submit -> received -> scanned -> completed -> written_back.
    tasks = [asyncio.create_task(_relay_hop(bus, a, b, stop)) for a, b in itertools.pairwise(HOPS)]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


@contextlib.asynccontextmanager
async def _pipeline(url: str, workdir: Path, groups: list[list[str]] | None = None) -> Any:
    """The services as processes (`sparks run`): one each by default, or the given groups."""
    env = {**os.environ, "NATS_URL": url}
    procs = {
        "+".join(group): subprocess.Popen(
            [sys.executable, "-m", "services.runtime.cli", "--log-level", "error", "run", *group],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for group in (groups or [[name] for name in SERVICES])
    }
    try:
        yield procs
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(30)


def _peak_rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _arrivals(
    bus: Bus, subject: str, run: str, key: Callable[[bytes], str | None]
) -> tuple[dict[str, float], Any]:
    seen: dict[str, float] = {}

    async def on_msg(msg: Msg) -> None:
        ident = key(msg.data)
        if ident and ident.startswith(run) and ident not in seen:
            seen[ident] = time.perf_counter()

    sub = await bus.nc.subscribe(subject, cb=on_msg)
    return seen, sub


def _relay_key(data: bytes) -> str | None:
    return str(json.loads(data).get("id"))


def _pipeline_key(data: bytes) -> str | None:
    ticket_id = json.loads(data).get("ticket_id", "")
    return str(ticket_id).removeprefix("manual:")


async def _measure(
    bus: Bus,
    done_subject: str,
    key: Callable[[bytes], str | None],
    run: str,
    count: int,
    rate: float | None,
    timeout: float,
) -> dict[str, float]:
    seen, sub = await _arrivals(bus, done_subject, run, key)
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for n in range(count):
        if rate:
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        sent[f"{run}-{n}"] = time.perf_counter()
        await bus.nc.publish("ticket.submit", _envelope(n, run))
    deadline = time.perf_counter() + timeout
    while len(seen) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)
    await sub.unsubscribe()
    elapsed = max(seen.values(), default=time.perf_counter()) - start
    latencies = sorted((seen[k] - sent[k]) * 1000 for k in seen if k in sent)
    return {
        "completed": len(seen),
        "tickets_per_s": len(seen) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": latencies[max(int(len(latencies) * 0.99) - 1, 0)] if latencies else float("nan"),
        "max_ms": latencies[-1] if latencies else float("nan"),
    }


async def _wait_idle(bus: Bus, timeout: float = 180.0) -> None:
    """Until every consumer has drained: the paced run must not share the CPU with the backlog."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        busy = 0
        for name in await bus.js.consumers_info(bus.stream):
            busy += (name.num_pending or 0) + (name.num_ack_pending or 0)
        if busy == 0:
            return
        await asyncio.sleep(0.2)


async def _with_broker(work: Callable[[Bus, str, Path], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedNats(Path(tmp) / "nats", free_port())
        await server.start()
        cfg = NatsConfig(url=server.url)
        bus = Bus(await connect(cfg, server.url, "bench"), cfg)
        await bus.ensure_stream()
        try:
            return await work(bus, server.url, Path(tmp))
        finally:
            await bus.close()
            await server.stop()


async def run_bench(quick: bool, progress: Callable[[str], None]) -> dict[str, Any]:
    """Both systems, same broker settings, fresh store each; returns the numbers."""
    backlog = 1000 if quick else 10_000
    paced = 600 if quick else 4000

    async def relay(bus: Bus, url: str, tmp: Path) -> dict[str, Any]:
        async with _relay(bus):
            progress("relay: saturation")
            sat = await _measure(bus, "task.completed", _relay_key, "rs", backlog, None, 120)
            await _wait_idle(bus)
            progress("relay: 200 tickets/s")
            at200 = await _measure(bus, "task.completed", _relay_key, "r2", paced, 200, 60)
        return {"saturation": sat, "at_200": at200}

    def pipeline(label: str, groups: list[list[str]] | None) -> Callable[[Bus, str, Path], Awaitable[dict[str, Any]]]:
        async def run(bus: Bus, url: str, tmp: Path) -> dict[str, Any]:
            async with _pipeline(url, tmp, groups) as procs:
                await asyncio.sleep(3.0)  # let the processes connect
                progress(f"{label}: saturation")
                sat = await _measure(bus, "task.completed", _pipeline_key, "ps", backlog, None, 300)
                progress(f"{label}: draining the backlog (writeback, audit index)")
                await _wait_idle(bus)
                progress(f"{label}: 200 tickets/s")
                at200 = await _measure(bus, "task.completed", _pipeline_key, "p2", paced, 200, 120)
                rss = {name: round(_peak_rss_mb(proc.pid), 1) for name, proc in procs.items()}
            return {"saturation": sat, "at_200": at200, "peak_rss_mb": rss}

        return run

    r = await _with_broker(relay)
    p = await _with_broker(pipeline("pipeline, a process per service", None))
    # `sparks up` and `sparks run intake scanner dispatcher writeback`: all four in one process.
    one = await _with_broker(pipeline("pipeline, one process", [list(SERVICES)]))
    return {
        "tickets": backlog,
        "relay_tickets_per_s": round(r["saturation"]["tickets_per_s"], 1),
        "pipeline_tickets_per_s": round(p["saturation"]["tickets_per_s"], 1),
        "throughput_ratio": round(p["saturation"]["tickets_per_s"] / r["saturation"]["tickets_per_s"], 3),
        "relay_p50_ms_at_200": round(r["at_200"]["p50_ms"], 2),
        "relay_p99_ms_at_200": round(r["at_200"]["p99_ms"], 2),
        "pipeline_p50_ms_at_200": round(p["at_200"]["p50_ms"], 2),
        "pipeline_p99_ms_at_200": round(p["at_200"]["p99_ms"], 2),
        "pipeline_max_ms_at_200": round(p["at_200"]["max_ms"], 2),
        "latency_ratio": round(p["at_200"]["p99_ms"] / r["at_200"]["p99_ms"], 2),
        "peak_rss_mb": p["peak_rss_mb"],
        "one_process_tickets_per_s": round(one["saturation"]["tickets_per_s"], 1),
        "one_process_throughput_ratio": round(one["saturation"]["tickets_per_s"] / r["saturation"]["tickets_per_s"], 3),
        "one_process_p50_ms_at_200": round(one["at_200"]["p50_ms"], 2),
        "one_process_p99_ms_at_200": round(one["at_200"]["p99_ms"], 2),
        "one_process_latency_ratio": round(one["at_200"]["p99_ms"] / r["at_200"]["p99_ms"], 2),
        "one_process_peak_rss_mb": one["peak_rss_mb"],
        "completed": {
            "relay": r["saturation"]["completed"],
            "pipeline": p["saturation"]["completed"],
            "one_process": one["saturation"]["completed"],
        },
        "cores": os.cpu_count(),
    }


def render(result: dict[str, Any]) -> str:
    """The numbers a person reads, each with its ratio to the reference."""
    return "\n".join(
        [
            f"throughput at saturation ({result['tickets']} tickets of 1 KB, {result['cores']} cores):",
            f"  bare 4-hop relay (reference)  {result['relay_tickets_per_s']:8.0f} tickets/s",
            f"  sparks pipeline               {result['pipeline_tickets_per_s']:8.0f} tickets/s   ratio {result['throughput_ratio']:.2f}",
            "latency submit -> task.completed at 200 tickets/s:",
            f"  relay     p50 {result['relay_p50_ms_at_200']:7.2f} ms   p99 {result['relay_p99_ms_at_200']:7.2f} ms",
            f"  pipeline  p50 {result['pipeline_p50_ms_at_200']:7.2f} ms   p99 {result['pipeline_p99_ms_at_200']:7.2f} ms   "
            f"max {result['pipeline_max_ms_at_200']:.1f} ms   p99 ratio {result['latency_ratio']:.2f}",
            "peak RSS per service (MB): " + ", ".join(f"{k} {v}" for k, v in result["peak_rss_mb"].items()),
            "all four services in one process (sparks up; sparks run intake scanner dispatcher writeback):",
            f"  {result['one_process_tickets_per_s']:8.0f} tickets/s   ratio {result['one_process_throughput_ratio']:.2f};"
            f"   at 200 tickets/s p50 {result['one_process_p50_ms_at_200']:.2f} ms   p99 "
            f"{result['one_process_p99_ms_at_200']:.2f} ms   p99 ratio {result['one_process_latency_ratio']:.2f}; "
            f"peak RSS {sum(result['one_process_peak_rss_mb'].values()):.1f} MB",
        ]
    )
