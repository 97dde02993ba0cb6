"""What every fault test asserts at the end: each ticket completed once, written back once, no dead letters."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Iterable

import nats.errors
import nats.js.errors

from pipeline_helpers import events
from schemas import AnyEvent, TaskCompleted, TicketWrittenBack
from services.runtime.bus import Bus
from services.runtime.dead_letters import dead_letters


async def settled(bus: Bus, tickets: int, timeout: float) -> list[tuple[str, AnyEvent]]:
    """Wait until `tickets` tickets were written back (tolerating a broker that is coming back)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: list[tuple[str, AnyEvent]] = []
    while loop.time() < deadline:
        with contextlib.suppress(nats.errors.Error, nats.js.errors.Error, TimeoutError):
            seen = await events(bus)
            if len({e.ticket_id for s, e in seen if s == "ticket.written_back"}) >= tickets:
                await asyncio.sleep(1.0)  # a late duplicate would land now: give it the chance
                return await events(bus)
        await asyncio.sleep(0.3)
    done = len({e.ticket_id for s, e in seen if s == "ticket.written_back"})
    raise AssertionError(f"only {done} of {tickets} tickets were written back in {timeout:.0f} s")


async def assert_each_exactly_once(bus: Bus, seen: list[tuple[str, AnyEvent]], ticket_ids: Iterable[str]) -> None:
    """One task.completed and one successful writeback per ticket, and nothing dead-lettered."""
    expected = set(ticket_ids)
    completed = collections.Counter(e.ticket_id for _, e in seen if isinstance(e, TaskCompleted))
    written = [e for _, e in seen if isinstance(e, TicketWrittenBack)]
    written_ok = collections.Counter(e.ticket_id for e in written if e.status == "done")
    assert set(completed) == expected, f"missing completions: {sorted(expected - set(completed))[:10]}"
    twice = {t: n for t, n in completed.items() if n != 1}
    assert not twice, f"tickets completed more than once: {twice}"
    assert set(written_ok) == expected, f"not written back: {sorted(expected - set(written_ok))[:10]}"
    assert set(written_ok.values()) == {1}, "a ticket was written back more than once"
    assert not [e for e in written if e.status != "done"], "a writeback ended in failure"
    dead = await dead_letters(bus)
    assert dead == [], f"dead letters: {[(seq, r.consumer, r.error) for seq, r in dead]}"
