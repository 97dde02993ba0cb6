"""The consume loop on the real broker: poison and exhausted messages reach the dead-letter subject."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import msgspec

from pipeline_helpers import count, running, stored, wait_for
from services.runtime.bus import Bus, ConsumerSpec
from services.runtime.config import Config
from services.runtime.consumer import ConsumerLoop, DeadLetterRecord, Handler, Inbound
from services.runtime.errors import TransientError


@contextlib.asynccontextmanager
async def consuming(bus: Bus, handler: Handler) -> AsyncIterator[ConsumerLoop]:
    loop = ConsumerLoop(bus, ConsumerSpec("probe", ("task.probe",)), handler, concurrency=4, service="probe")
    task = asyncio.create_task(loop.run())
    try:
        yield loop
    finally:
        loop.stop()
        await task


async def _dead_letters(bus: Bus, durable: str) -> list[DeadLetterRecord]:
    return [msgspec.json.decode(m.data, type=DeadLetterRecord) for m in await stored(bus, (f"dlq.{durable}",))]


async def test_poison_event_is_dead_lettered_at_once_and_the_rest_flows(bus: Bus, config: Config) -> None:
    async with running(config, ["scanner"]):
        await bus.js.publish("ticket.received", b'{"type": "ticket.received", "ticket_id": 5}')
        await bus.js.publish("ticket.received", b'{"type": "task.started"}')
        await bus.nc.publish("ticket.submit", b'{"title": "fine"}')
        async with running(config, ["intake"]):
            await wait_for(bus, lambda ev: count(ev, "ticket.scanned") == 1)
        for _ in range(50):
            if len(dead := await _dead_letters(bus, "scanner")) == 2:
                break
            await asyncio.sleep(0.1)
    assert len(dead) == 2
    assert all(d.delivered == 1 and d.consumer == "scanner" for d in dead)
    assert "PoisonMessage" in dead[0].error
    assert '"ticket_id": 5' in dead[0].data


async def test_failing_handler_is_retried_then_dead_lettered_with_its_last_error(bus: Bus, config: Config) -> None:
    attempts: list[int] = []

    async def always_fails(msg: Inbound) -> None:
        attempts.append(msg.delivered)
        raise TransientError(f"upstream down (attempt {msg.delivered})")

    async with consuming(bus, always_fails):
        await bus.js.publish("task.probe", b"payload")
        for _ in range(100):
            if await _dead_letters(bus, "probe"):
                break
            await asyncio.sleep(0.1)
    assert attempts == [1, 2, 3]  # max_deliver = 3
    [record] = await _dead_letters(bus, "probe")
    assert record.error == "TransientError: upstream down (attempt 3)"
    assert record.data == "payload"
    assert record.subject == "task.probe"


async def test_long_work_sends_heartbeats_and_is_not_redelivered(bus: Bus, config: Config) -> None:
    calls: list[int] = []

    async def slow(msg: Inbound) -> None:
        calls.append(msg.delivered)
        async with msg.heartbeat():
            await asyncio.sleep(config.nats.ack_wait_secs * 2.5)

    async with consuming(bus, slow) as loop:
        await bus.js.publish("task.probe", b"long")
        for _ in range(100):
            if loop.processed:
                break
            await asyncio.sleep(0.1)
    assert calls == [1]


async def test_stop_naks_unfinished_work_so_another_replica_takes_it(bus: Bus, config: Config) -> None:
    started = asyncio.Event()

    async def never_finishes(msg: Inbound) -> None:
        started.set()
        await asyncio.sleep(3600)

    loop = ConsumerLoop(bus, ConsumerSpec("probe", ("task.probe",)), never_finishes, concurrency=1, service="probe")
    task = asyncio.create_task(loop.run(grace_secs=0.2))
    await bus.js.publish("task.probe", b"x")
    await asyncio.wait_for(started.wait(), 10)
    loop.stop()
    await task

    delivered: list[int] = []

    async def finishes(msg: Inbound) -> None:
        delivered.append(msg.delivered)

    async with consuming(bus, finishes) as second:
        for _ in range(20):  # well under ack_wait: only a nak makes it this fast
            if second.processed:
                break
            await asyncio.sleep(0.05)
    assert delivered == [2]
