"""kill -9 the nats-server mid-flow and restart it on the same store: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
from pathlib import Path

import nats.errors
import nats.js.errors

from pipeline_helpers import events, make_config, running
from schemas import TaskCompleted, TicketWrittenBack
from services.runtime.bus import Bus, connect
from services.runtime.dead_letters import dead_letters
from services.runtime.embedded_server import EmbeddedNats, free_port

TICKETS = 150


async def _settled(bus: Bus, timeout: float) -> list[tuple[str, object]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: list[tuple[str, object]] = []
    while loop.time() < deadline:
        with contextlib.suppress(nats.errors.Error, nats.js.errors.Error, TimeoutError):
            seen = list(await events(bus))
            if sum(1 for s, _ in seen if s == "ticket.written_back") >= TICKETS:
                return seen
        await asyncio.sleep(0.3)
    raise AssertionError(f"only {sum(1 for s, _ in seen if s == 'ticket.written_back')} of {TICKETS} written back")


async def test_broker_killed_and_restarted_on_its_store_loses_and_doubles_nothing(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "broker", free_port())
    await server.start()
    config = make_config(server.url, tmp_path)
    bus = Bus(await connect(config.nats, server.url, "test"), config.nats)
    await bus.ensure_stream()
    try:
        async with running(config, ["intake", "scanner", "dispatcher", "writeback"]):
            for n in range(TICKETS):
                await bus.js.publish("ticket.submit", json.dumps({"title": f"ticket {n}", "id": f"K-{n}"}).encode())
            await asyncio.sleep(0.3)  # mid-flow
            await server.kill()
            await asyncio.sleep(1.0)
            await server.start()  # same port, same JetStream store
            seen = await _settled(bus, timeout=90)
        dead = await dead_letters(bus)
    finally:
        await bus.close()
        await server.stop()
    completed = collections.Counter(e.ticket_id for _, e in seen if isinstance(e, TaskCompleted))
    written = collections.Counter(e.ticket_id for _, e in seen if isinstance(e, TicketWrittenBack))
    assert len(completed) == TICKETS
    assert set(completed.values()) == {1}
    assert set(written.values()) == {1}
    assert dead == []
