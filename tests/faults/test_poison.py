"""A poison message (valid JSON, impossible content) goes to the dead-letter subject and the rest
flows on; `sparks dlq list` shows it with the reason and `sparks dlq replay` resubmits it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fault_checks import settled
from pipeline_helpers import running
from schemas import TaskCompleted
from services.runtime.bus import Bus
from services.runtime.config import Config
from services.runtime.dead_letters import dead_letters

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.fault

# Decodes as JSON and carries the right tag, but no such risk tier exists: no retry can fix it.
POISON = {
    "type": "ticket.received",
    "version": 1,
    "event_id": "poison-1",
    "ticket_id": "manual:POISON",
    "occurred_at": "2026-11-24T06:00:00Z",
    "causation_id": None,
    "ticket": {"source": "manual", "external_id": "POISON", "title": "boom", "risk_tier": "apocalyptic"},
}


def _sparks(url: str, *args: str) -> str:
    env = {**os.environ, "NATS_URL": url, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "services.runtime.cli", *args], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout


async def test_poison_is_dead_lettered_the_rest_flows_and_the_operator_can_replay_it(
    bus: Bus, config: Config, soak: bool
) -> None:
    tickets = 1000 if soak else 40
    async with running(config, ["intake", "scanner", "dispatcher", "writeback"]):
        for n in range(tickets):
            await bus.js.publish("ticket.submit", json.dumps({"title": f"good {n}", "id": f"G-{n}"}).encode())
            if n == tickets // 2:
                await bus.js.publish("ticket.received", json.dumps(POISON).encode(), headers={"Nats-Msg-Id": "p1"})
        seen = await settled(bus, tickets, timeout=600 if soak else 60)

        letters = [json.loads(line) for line in _sparks(config.nats.url or "", "dlq", "list", "--json").splitlines()]
        [letter] = letters
        assert letter["consumer"] == "scanner"
        assert letter["subject"] == "ticket.received"
        assert "risk_tier" in letter["error"]
        assert "apocalyptic" in letter["error"]
        assert json.loads(letter["data"]) == POISON

        replayed = _sparks(config.nats.url or "", "dlq", "replay", str(letter["seq"]))
        assert replayed.strip() == f"replayed dead letter {letter['seq']} to ticket.received"
        # Still impossible after the replay: it comes back as a second dead letter, it does not loop.
        for _ in range(100):
            if len(await dead_letters(bus)) == 2:
                break
            await asyncio.sleep(0.1)
    assert len(await dead_letters(bus)) == 2
    completed = [e for _, e in seen if isinstance(e, TaskCompleted)]
    assert sorted(e.ticket_id for e in completed) == sorted(f"manual:G-{n}" for n in range(tickets))
