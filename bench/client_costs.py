"""What one broker operation costs the nats-py client in CPU, on an embedded nats-server.

Publishing (awaited `js.publish`, `publish_async` then awaiting its ack, `kv.put`, 32 in flight)
and consuming 20,000 stored messages with an ack each: nats-py's `fetch` (batches of 32) against
`services/runtime/pull_feed.py` (the consume loop's continuous pull). CPU is this process's user +
system time per operation; the broker's own CPU is not counted.

    python bench/client_costs.py [--messages 20000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig

from services.runtime.bench_command import _with_broker
from services.runtime.bus import Bus
from services.runtime.logging import configure_logging
from services.runtime.pull_feed import PullFeed

PAYLOAD = b"x" * 1000


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _timed(count: int, work: Callable[[], Awaitable[None]]) -> dict[str, float]:
    cpu, wall = _cpu(), time.perf_counter()
    await work()
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    return {"ops_per_s": round(count / wall), "cpu_us_per_op": round(1e6 * cpu / count, 1)}


async def _concurrently(count: int, op: Callable[[int], Awaitable[object]], in_flight: int = 32) -> None:
    gate = asyncio.Semaphore(in_flight)

    async def one(n: int) -> None:
        async with gate:
            await op(n)

    await asyncio.gather(*(one(n) for n in range(count)))


async def measure(bus: Bus, count: int) -> dict[str, Any]:
    """Each operation `count` times; returns rate and client CPU per operation."""
    kv = await bus.key_value("bench_client_costs")

    async def publish_async(n: int) -> None:
        ack = await bus.js.publish_async("ticket.cost_b", PAYLOAD, headers={"Nats-Msg-Id": f"b{n}"})
        await ack

    result = {
        "js_publish": await _timed(
            count,
            lambda: _concurrently(
                count, lambda n: bus.js.publish("ticket.cost_a", PAYLOAD, headers={"Nats-Msg-Id": f"a{n}"})
            ),
        ),
        "publish_async": await _timed(count, lambda: _concurrently(count, publish_async)),
        "kv_put": await _timed(count, lambda: _concurrently(count, lambda n: kv.put(f"k.{n}", b""))),
    }

    async def consumer(name: str) -> None:
        await bus.js.add_consumer(
            bus.stream,
            ConsumerConfig(
                durable_name=name, filter_subject="ticket.cost_a", ack_policy=AckPolicy.EXPLICIT, max_ack_pending=1000
            ),
        )

    await consumer("cost-fetch")
    sub = await bus.js.pull_subscribe_bind(durable="cost-fetch", stream=bus.stream)

    async def by_fetch() -> None:
        got = 0
        while got < count:
            try:
                msgs = await sub.fetch(32, timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            for msg in msgs:
                await msg.ack()
            got += len(msgs)

    result["consume_fetch"] = await _timed(count, by_fetch)

    await consumer("cost-feed")
    feed = PullFeed(bus.nc, bus.stream, "cost-feed")
    await feed.start()

    async def by_feed() -> None:
        got = 0
        while got < count:
            msgs = await feed.take(32, timeout=1.0)
            for msg in msgs:
                await msg.ack()
            got += len(msgs)

    result["consume_pull_feed"] = await _timed(count, by_feed)
    await feed.close()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging("warning")

    async def run(bus: Bus, _url: str, _tmp: Path) -> dict[str, Any]:
        return await measure(bus, args.messages)

    result = await _with_broker(run)
    if args.json:
        print(json.dumps(result))
        return
    for name, numbers in result.items():
        print(f"{name:<18} {numbers['ops_per_s']:>8,} ops/s   {numbers['cpu_us_per_op']:6.1f} us CPU per op")
    ratio = result["consume_fetch"]["cpu_us_per_op"] / result["consume_pull_feed"]["cpu_us_per_op"]
    print(f"consuming with the pull feed costs 1/{ratio:.1f} of fetch per message (ack included)")


if __name__ == "__main__":
    asyncio.run(main())
