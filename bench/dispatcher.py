"""Benchmark: tickets/s through the dispatcher (dry-run ghost) vs a bare relay on the same stream.

    .venv/bin/python bench/dispatcher.py [--tickets 2000]

The relay consumes the same `ticket.scanned` messages, publishes one event each and acks, with the
same concurrency: what is left is the dispatcher's own scheduling cost (claims, task building,
started + completed events). A benchmark, not a test: it prints numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from schemas import TaskCompleted, Ticket, TicketScanned
from services.runtime.bus import Bus, ConsumerSpec, connect
from services.runtime.config import Config, DispatcherConfig, NatsConfig
from services.runtime.consumer import ConsumerLoop, Inbound
from services.runtime.embedded_server import EmbeddedNats, free_port
from services.runtime.event_mapper import MAPPER, derived_event_id
from services.runtime.runner import ServiceGroup


def scanned(n: int) -> TicketScanned:
    ticket = Ticket(source="manual", external_id=f"B-{n}", title=f"Bench ticket {n}", description="x" * 900)
    return TicketScanned(
        event_id=f"bench-scanned-{n}", ticket_id=ticket.ticket_id, occurred_at=datetime.now(UTC), causation_id=None,
        ticket=ticket, decision="allow", score=0.0,
    )  # fmt: skip


async def fill(bus: Bus, n: int) -> None:
    futures = []
    for i in range(n):
        message = MAPPER.to_message(scanned(i))
        futures.append(await bus.js.publish_async(message.subject, message.data, headers=message.headers))
    await asyncio.gather(*futures)


async def wait_count(bus: Bus, subject: str, n: int) -> None:
    while True:
        subjects = (await bus.js.stream_info(bus.stream, subjects_filter=subject)).state.subjects or {}
        if subjects.get(subject, 0) >= n:
            return
        await asyncio.sleep(0.02)


async def relay(bus: Bus, n: int, concurrency: int) -> float:
    async def handle(msg: Inbound) -> None:
        event = MAPPER.decode_as(msg.data, TicketScanned)
        done = TaskCompleted(
            event_id=derived_event_id(event.event_id, "relay"), ticket_id=event.ticket_id, occurred_at=datetime.now(UTC),
            causation_id=event.event_id, ticket=event.ticket, task_id="t", ghost=None, outcome="dry_run", summary="relay",
        )  # fmt: skip
        await bus.publish(done)

    loop = ConsumerLoop(
        bus, ConsumerSpec("relay", ("ticket.scanned",)), handle, concurrency=concurrency, service="relay"
    )
    start = time.perf_counter()
    task = asyncio.create_task(loop.run())
    await wait_count(bus, "task.completed", n)
    elapsed = time.perf_counter() - start
    loop.stop()
    await task
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, float] = {}
    for mode in ("relay", "dispatcher"):
        with tempfile.TemporaryDirectory() as tmp:
            server = EmbeddedNats(Path(tmp) / "nats", free_port())
            await server.start()
            cfg = Config(
                nats=NatsConfig(url=server.url, data_dir=str(Path(tmp) / "nats")),
                dispatcher=DispatcherConfig(max_concurrency=args.concurrency, work_dir=str(Path(tmp) / "work")),
            )
            bus = Bus(await connect(cfg.nats, server.url, "bench"), cfg.nats)
            await bus.ensure_stream()
            await fill(bus, args.tickets)
            if mode == "relay":
                results["relay_secs"] = await relay(bus, args.tickets, args.concurrency)
            else:
                group = ServiceGroup(cfg, ["dispatcher"])
                start = time.perf_counter()
                task = asyncio.create_task(group.run(server.url))
                await wait_count(bus, "task.completed", args.tickets)
                results["dispatcher_secs"] = time.perf_counter() - start
                group.stop()
                await task
            await bus.close()
            await server.stop()
    n = args.tickets
    out = {
        "tickets": n,
        "relay_tickets_per_s": n / results["relay_secs"],
        "dispatcher_tickets_per_s": n / results["dispatcher_secs"],
        "throughput_ratio": results["relay_secs"] / results["dispatcher_secs"],
        "scheduling_overhead_ms_per_task": (results["dispatcher_secs"] - results["relay_secs"]) / n * 1000,
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"bare relay (consume, publish, ack):   {out['relay_tickets_per_s']:7.0f} tickets/s")
    print(f"dispatcher (claim, started, dry run, completed): {out['dispatcher_tickets_per_s']:7.0f} tickets/s")
    print(
        f"ratio {out['throughput_ratio']:.2f}x; scheduling overhead {out['scheduling_overhead_ms_per_task']:.2f} ms per task "
        f"(concurrency {args.concurrency}, {n} tickets)"
    )


if __name__ == "__main__":
    asyncio.run(main())
