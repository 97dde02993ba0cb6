"""A real three-node NATS cluster: stream with 3 replicas, two replicas of every service, the stream
leader's node killed mid-flow; every ticket still completes exactly once."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
from pathlib import Path

import msgspec
import nats.errors
import nats.js.errors
import pytest

from nats_cluster import NatsCluster
from pipeline_helpers import events, make_config, running
from schemas import TaskCompleted, TicketWrittenBack
from services.runtime.bus import Bus, connect
from services.runtime.config import Config

TICKETS = 60
ALL = ["intake", "scanner", "dispatcher", "writeback"]


async def _ready_bus(config: Config) -> Bus:
    bus = Bus(await connect(config.nats, config.nats.url or "", "test"), config.nats)
    for _ in range(100):  # the cluster needs a moment to elect its JetStream meta leader
        try:
            await bus.ensure_stream()
            return bus
        except (nats.js.errors.Error, nats.errors.Error, TimeoutError):
            await asyncio.sleep(0.2)
    pytest.fail("the three-node cluster never formed JetStream")


async def test_stream_leader_killed_mid_flow_loses_nothing(tmp_path: Path) -> None:
    cluster = NatsCluster(tmp_path / "cluster")
    try:
        await cluster.start()
    except (OSError, RuntimeError) as exc:
        pytest.skip(f"cannot start nats-server nodes here: {exc}")
    base = make_config(cluster.url, tmp_path)
    # Deliveries must outlast a leader election (a few seconds), or messages are dead-lettered.
    nats_cfg = msgspec.structs.replace(base.nats, replicas=3, max_deliver=10, backoff_secs=[0.5, 1.0, 2.0, 4.0])
    config = msgspec.structs.replace(base, nats=nats_cfg)
    bus = await _ready_bus(config)
    try:
        async with running(config, ALL), running(config, ALL):
            for n in range(TICKETS):
                await bus.js.publish("ticket.submit", json.dumps({"title": f"ticket {n}", "id": f"C-{n}"}).encode())
            info = await bus.js.stream_info(bus.stream)
            leader = info.cluster.leader if info.cluster else None
            assert leader, "a replicated stream has a leader"
            await cluster.kill(leader)
            seen = []
            for _ in range(300):
                with contextlib.suppress(nats.errors.Error, nats.js.errors.Error, TimeoutError):
                    seen = await events(bus)
                    if sum(1 for s, _ in seen if s == "ticket.written_back") >= TICKETS:
                        break
                await asyncio.sleep(0.3)
            new_leader = (await bus.js.stream_info(bus.stream)).cluster
    finally:
        await bus.close()
        await cluster.stop()
    completed = collections.Counter(e.ticket_id for _, e in seen if isinstance(e, TaskCompleted))
    written = collections.Counter(e.ticket_id for _, e in seen if isinstance(e, TicketWrittenBack))
    assert len(completed) == TICKETS, f"{len(completed)} of {TICKETS} completed"
    assert set(completed.values()) == {1}
    assert set(written.values()) == {1}
    assert new_leader is not None
    assert new_leader.leader != leader
