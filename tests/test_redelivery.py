"""A service that did its work but died before acking is redelivered the message; the stream keeps one copy."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from pipeline_helpers import clean_bus, count, running, wait_for
from services.runtime.bus import Bus, connect
from services.runtime.config import Config
from services.runtime.consumer import Inbound
from services.runtime.service_registry import SERVICES

STAGES = ["intake", "scanner", "dispatcher", "writeback"]
OUTPUT = {
    "intake": "ticket.received",
    "scanner": "ticket.scanned",
    "dispatcher": "task.completed",
    "writeback": "ticket.written_back",
}


async def _work_then_die(config: Config, service: str) -> int:
    """Fetch as the service's durable consumer, run its real handler, then drop the connection unacked."""
    definition = SERVICES[service]
    victim = Bus(await connect(config.nats, config.nats.url or "", name=f"doomed-{service}"), config.nats)
    await victim.ensure_consumer(definition.consumer, max_ack_pending=64)
    sub = await victim.js.pull_subscribe_bind(durable=definition.consumer.durable, stream=victim.stream)
    msgs = await sub.fetch(10, timeout=10)
    async with contextlib.AsyncExitStack() as resources:
        handler = await definition.build(victim, config, resources)
        for msg in msgs:
            meta = msg.metadata
            await handler(Inbound(msg.subject, msg.data, meta.sequence.stream, meta.num_delivered, msg))
    await victim.nc.close()  # killed: no ack ever reaches the server
    return len(msgs)


@pytest.mark.parametrize("service", STAGES)
async def test_restarted_service_does_not_duplicate_derived_events(config: Config, service: str) -> None:
    async with clean_bus(config) as bus:
        upstream = STAGES[: STAGES.index(service)]
        async with running(config, upstream) if upstream else contextlib.nullcontext():
            await bus.nc.publish("ticket.submit", json.dumps({"title": "Fix the login bug", "id": "R-1"}).encode())
            if upstream:
                await wait_for(bus, lambda ev: count(ev, OUTPUT[upstream[-1]]) == 1)
        handled = await _work_then_die(config, service)
        seen = await wait_for(bus, lambda ev: count(ev, OUTPUT[service]) == 1)
        # Restart: the unacked message comes back after ack_wait and is processed again.
        async with running(config, STAGES[STAGES.index(service) :]):
            await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 1, timeout=30)
            durable = SERVICES[service].consumer.durable
            for _ in range(100):
                info = await bus.js.consumer_info(bus.stream, durable)
                if info.num_ack_pending == 0 and info.num_pending == 0 and info.delivered.consumer_seq >= 2 * handled:
                    break
                await asyncio.sleep(0.1)
            # Each message the dead process handled was delivered twice: to it and to the restarted one.
            assert info.delivered.consumer_seq == 2 * handled, "the dead service's messages were not redelivered once"
            assert info.num_ack_pending == 0
        seen = await wait_for(bus, lambda ev: True)
    for subject in ("ticket.received", "ticket.scanned", "task.started", "task.completed", "ticket.written_back"):
        assert count(seen, subject) == 1, f"{subject} appears {count(seen, subject)} times"
