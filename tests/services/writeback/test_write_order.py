"""A late "work started" write can never undo the outcome: the two writes of a task are ordered."""

from __future__ import annotations

import asyncio

from pipeline_helpers import reset_kv
from services.runtime.bus import Bus
from services.writeback.write_order import ORDER_BUCKET, Seen, WriteOrder, outcome_must_wait, start_may_write

STALE = 60.0


def test_start_writes_on_a_fresh_task_or_in_place_of_a_dead_writer() -> None:
    assert start_may_write(None, STALE)
    assert start_may_write(Seen("starting", 61.0), STALE)
    assert not start_may_write(Seen("starting", 1.0), STALE)
    assert not start_may_write(Seen("started", 1.0), STALE)
    assert not start_may_write(Seen("completing", 1.0), STALE)


def test_outcome_waits_only_for_a_live_start_writer() -> None:
    assert outcome_must_wait(Seen("starting", 1.0), STALE)
    assert not outcome_must_wait(Seen("starting", 61.0), STALE)
    assert not outcome_must_wait(Seen("started", 1.0), STALE)
    assert not outcome_must_wait(None, STALE)


async def _order(bus: Bus, clock: list[float]) -> WriteOrder:
    await reset_kv(bus)
    kv = await bus.key_value(ORDER_BUCKET)
    return WriteOrder(kv, STALE, clock=lambda: clock[0])


async def test_outcome_waits_while_the_start_is_being_written_then_follows_it(bus: Bus) -> None:
    order = await _order(bus, [1000.0])
    assert await order.begin_start("task-1")
    outcome = asyncio.create_task(order.begin_outcome("task-1"))
    await asyncio.sleep(0.3)
    assert not outcome.done(), "the outcome went ahead while the start was still being written"
    await order.end_start("task-1", written=True)
    await asyncio.wait_for(outcome, 5)
    await order.begin_outcome("task-1")  # a redelivery of the outcome goes ahead again
    assert not await order.begin_start("task-1"), "a start redelivered after the outcome must not move the issue"


async def test_start_arriving_after_the_outcome_is_skipped(bus: Bus) -> None:
    order = await _order(bus, [1000.0])
    await order.begin_outcome("task-2")
    assert not await order.begin_start("task-2")


async def test_a_start_that_failed_gives_its_mark_back_so_the_outcome_need_not_wait(bus: Bus) -> None:
    order = await _order(bus, [1000.0])
    assert await order.begin_start("task-3")
    await order.end_start("task-3", written=False)
    await order.begin_outcome("task-3")
    assert not await order.begin_start("task-3")


async def test_a_dead_start_writer_is_overtaken_after_stale_after(bus: Bus) -> None:
    order = await _order(bus, clock := [1000.0])
    assert await order.begin_start("task-4")
    clock[0] += STALE + 1
    await order.begin_outcome("task-4")
    assert not await order.begin_start("task-4")


async def test_a_mark_with_garbage_in_it_never_blocks_the_outcome(bus: Bus) -> None:
    order = await _order(bus, [1000.0])
    kv = await bus.key_value(ORDER_BUCKET)
    await kv.put("task-5", b"starting not-a-time")
    await asyncio.wait_for(order.begin_outcome("task-5"), 2)
    await kv.put("task-6", b"\xff\xfe garbage")
    assert await order.begin_start("task-6")
