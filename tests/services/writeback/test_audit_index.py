"""`sparks audit` reads one ticket's events through the per-ticket index, without scanning the log."""

from __future__ import annotations

import asyncio
import json

from pipeline_helpers import count, running, wait_for
from services.runtime.bus import Bus
from services.runtime.config import Config
from services.runtime.log_commands import ticket_events
from services.writeback import audit_index

CHAIN = ["ticket.received", "ticket.scanned", "task.started", "task.completed", "ticket.written_back"]


async def test_audit_reads_the_ticket_through_its_index(bus: Bus, config: Config) -> None:
    async with running(config, ["intake", "scanner", "dispatcher", "writeback"]):
        for n in range(5):
            await bus.nc.publish("ticket.submit", json.dumps({"title": f"ticket {n}", "id": f"A-{n}"}).encode())
        await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 5)
        for _ in range(50):
            seqs = await audit_index.sequences(bus, "manual:A-3")
            if seqs and len(seqs) == 5:
                break
            await asyncio.sleep(0.1)
    assert seqs is not None
    assert len(seqs) == 5
    story = [(subject, event.ticket_id) async for subject, event in ticket_events(bus, "manual:A-3")]
    assert story == [(subject, "manual:A-3") for subject in CHAIN]


async def test_without_an_index_audit_falls_back_to_scanning(bus: Bus, config: Config) -> None:
    async with running(config, ["intake"]):
        await bus.nc.publish("ticket.submit", b'{"title": "no index yet", "id": "B-1"}')
        await wait_for(bus, lambda ev: count(ev, "ticket.received") == 1)
    story = [subject async for subject, _ in ticket_events(bus, "manual:B-1")]
    assert story == ["ticket.received"]


async def test_indexing_the_same_event_twice_keeps_one_entry(bus: Bus) -> None:
    kv = await bus.key_value(audit_index.INDEX_BUCKET)
    # A redelivered event is indexed again; the key per (ticket, sequence) makes that a no-op.
    for seq in (7, 3, 7, 12, 3):
        await audit_index.add(kv, "linear:ENG-1", seq)
    await audit_index.add(kv, "linear:ENG-2", 5)
    assert await audit_index.sequences(bus, "linear:ENG-1") == [3, 7, 12]
    assert await audit_index.sequences(bus, "linear:ENG-2") == [5]
    assert await audit_index.sequences(bus, "linear:ENG-3") is None


async def test_foreign_keys_under_a_tickets_prefix_are_ignored(bus: Bus) -> None:
    kv = await bus.key_value(audit_index.INDEX_BUCKET)
    prefix = audit_index.index_key("linear:ENG-9")
    await kv.put(f"{prefix}.notes", b"someone else's key")
    assert await audit_index.sequences(bus, "linear:ENG-9") is None
    await audit_index.add(kv, "linear:ENG-9", 42)
    assert await audit_index.sequences(bus, "linear:ENG-9") == [42]
