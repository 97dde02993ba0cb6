"""kill -9 the nats-server mid-flow and restart it on the same store: clients reconnect, publishes
in flight are retried, nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from fault_checks import assert_each_exactly_once, settled
from pipeline_helpers import make_config, running
from services.runtime.bus import Bus, connect
from services.runtime.embedded_server import EmbeddedNats, free_port

pytestmark = pytest.mark.fault


async def test_broker_killed_and_restarted_on_its_store_loses_and_doubles_nothing(tmp_path: Path, soak: bool) -> None:
    tickets = 2000 if soak else 150
    rounds = 3 if soak else 1
    server = EmbeddedNats(tmp_path / "broker", free_port())
    await server.start()
    config = make_config(server.url, tmp_path)
    bus = Bus(await connect(config.nats, server.url, "test"), config.nats)
    await bus.ensure_stream()
    try:
        async with running(config, ["intake", "scanner", "dispatcher", "writeback"]):
            per_round = tickets // rounds
            for r in range(rounds):
                for n in range(r * per_round, (r + 1) * per_round):
                    await bus.js.publish("ticket.submit", json.dumps({"title": f"ticket {n}", "id": f"K-{n}"}).encode())
                await asyncio.sleep(0.3)  # mid-flow
                await server.kill()
                await asyncio.sleep(1.0)
                await server.start()  # same port, same JetStream store
                await asyncio.sleep(1.0)  # the test's own client reconnects too
            seen = await settled(bus, per_round * rounds, timeout=600 if soak else 90)
        await assert_each_exactly_once(bus, seen, [f"manual:K-{n}" for n in range(per_round * rounds)])
    finally:
        await bus.close()
        await server.stop()
