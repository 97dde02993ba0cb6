"""Benchmark: `sparks kpi` replay over a large log (events/s, peak memory) and `sparks audit` latency.

    .venv/bin/python bench/kpi_audit.py [--events 1000000]

Fills a fresh embedded stream with synthetic ticket stories (5 events each), then measures, in the
same run: a bare read of the stream (the reference), `sparks kpi --json` as a separate process (its
peak RSS from the OS), and audits of 100 tickets through the per-ticket index (every event indexed)
against one audit by full scan. Prints numbers only; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas import AnyEvent, TaskCompleted, TaskStarted, Ticket, TicketReceived, TicketScanned, TicketWrittenBack
from services.runtime.bus import Bus, connect
from services.runtime.config import NatsConfig
from services.runtime.embedded_server import EmbeddedNats, free_port
from services.runtime.event_mapper import MAPPER
from services.runtime.log_commands import ticket_events
from services.runtime.logging import configure_logging
from services.runtime.stream_reader import read_stream
from services.writeback import audit_index

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SAMPLED_IDS: set[str] = set()
OUTCOMES = ["success", "success", "success", "rollback", "failed", "timeout"]


def story(n: int, rng: random.Random) -> list[AnyEvent]:
    t = Ticket(source=rng.choice(["linear", "github", "manual"]), external_id=str(n), title=f"Ticket {n}", description="x" * 200,
               repo=f"acme/repo{n % 20}", risk_tier=rng.choice(["low", "medium", "high"]))  # fmt: skip
    at = T0 + timedelta(seconds=n)
    tid = f"task-{n}"
    common = {"ticket_id": t.ticket_id}
    outcome = rng.choice(OUTCOMES)
    return [
        TicketReceived(event_id=f"r{n}", occurred_at=at, causation_id=None, ticket=t, **common),
        TicketScanned(event_id=f"s{n}", occurred_at=at, causation_id=f"r{n}", ticket=t, decision="allow", score=0.0, **common),
        TaskStarted(event_id=f"st{n}", occurred_at=at + timedelta(seconds=5), causation_id=f"s{n}", ticket=t, task_id=tid, ghost=rng.choice(["coder", "writer"]), reason="r", **common),
        TaskCompleted(event_id=f"c{n}", occurred_at=at + timedelta(seconds=60), causation_id=f"st{n}", ticket=t, task_id=tid, ghost="coder", outcome=outcome, summary="s", **common),  # type: ignore[arg-type]
        TicketWrittenBack(event_id=f"w{n}", occurred_at=at + timedelta(seconds=61), causation_id=f"c{n}", target="log", status="done", detail="d", outcome=outcome, task_id=tid, **common),  # type: ignore[arg-type]
    ]  # fmt: skip


async def fill(bus: Bus, tickets: int, sampled: set[int]) -> None:
    rng = random.Random(1)
    kv = await bus.key_value(audit_index.INDEX_BUCKET)
    pending = []
    started = time.monotonic()
    for n in range(tickets):
        for event in story(n, rng):
            message = MAPPER.to_message(event)
            future = await bus.js.publish_async(message.subject, message.data, headers=message.headers)
            pending.append((n, event.ticket_id, future))
        if len(pending) >= 5000:
            await _settle(kv, pending, sampled)
        if n and n % 50_000 == 0:
            print(
                f"  filled {n * 5:,} events ({n * 5 / (time.monotonic() - started):,.0f}/s)",
                file=sys.stderr,
                flush=True,
            )
    await _settle(kv, pending, sampled)


async def _settle(kv: object, pending: list[tuple[int, str, asyncio.Future[object]]], sampled: set[int]) -> None:
    # Every event is indexed, as the audit-index consumer would, so lookups run against a full bucket.
    acks = [await future for _, _, future in pending]
    await asyncio.gather(
        *(audit_index.add(kv, ticket_id, ack.seq) for (_, ticket_id, _), ack in zip(pending, acks, strict=True))  # type: ignore[arg-type, attr-defined]
    )
    SAMPLED_IDS.update(ticket_id for n, ticket_id, _ in pending if n in sampled)
    pending.clear()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("warning")  # stdout carries only the result
    tickets = args.events // 5
    sampled = set(random.Random(2).sample(range(tickets), 100))
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedNats(Path(tmp) / "nats", free_port())
        await server.start()
        cfg = NatsConfig(url=server.url)
        bus = Bus(await connect(cfg, server.url, "bench"), cfg)
        await bus.ensure_stream()
        await fill(bus, tickets, sampled)

        start = time.perf_counter()
        read = sum([1 async for _ in read_stream(bus)])
        bare_secs = time.perf_counter() - start

        env = {**os.environ, "NATS_URL": server.url, "PYTHONPATH": str(ROOT)}
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "services.runtime.cli", "kpi", "--json"],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp,
            check=True,
        )
        kpi_secs = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        replayed = json.loads(out.stdout.strip().splitlines()[-1])["events"]

        latencies = []
        for ticket_id in sorted(SAMPLED_IDS):
            start = time.perf_counter()
            found = [e async for e in ticket_events(bus, ticket_id)]
            latencies.append(time.perf_counter() - start)
            assert len(found) == 5, found
        start = time.perf_counter()
        probe = f'"ticket_id":"{min(SAMPLED_IDS)}"'.encode()
        scanned = [m async for m in read_stream(bus) if probe in m.data]
        scan_secs = time.perf_counter() - start
        await bus.close()
        await server.stop()
    latencies.sort()
    result = {
        "events": read,
        "bare_read_events_per_s": read / bare_secs,
        "kpi_events_per_s": replayed / kpi_secs,
        "kpi_secs": kpi_secs,
        "kpi_ratio_to_bare_read": (replayed / kpi_secs) / (read / bare_secs),
        "kpi_peak_rss_mb": peak_mb,
        "audit_indexed_p50_ms": statistics.median(latencies) * 1000,
        "audit_indexed_p99_ms": latencies[-1] * 1000,
        "audit_full_scan_ms": scan_secs * 1000,
        "scan_matches": len(scanned),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"log: {read:,} events")
    print(f"bare stream read (reference): {result['bare_read_events_per_s']:,.0f} events/s")
    print(
        f"sparks kpi replay: {result['kpi_events_per_s']:,.0f} events/s ({kpi_secs:.1f} s, {result['kpi_ratio_to_bare_read']:.2f}x the bare read), peak RSS {peak_mb:.0f} MB"
    )
    print(
        f"sparks audit via index: p50 {result['audit_indexed_p50_ms']:.1f} ms, max of 100 {result['audit_indexed_p99_ms']:.1f} ms; "
        f"by full scan: {result['audit_full_scan_ms']:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
