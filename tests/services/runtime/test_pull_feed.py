"""The continuous pull under the consume loop: never more in flight than there is room for, requests
renewed when they expire, unconsumed messages handed back on close, no spinning on a missing consumer."""

from __future__ import annotations

import asyncio

import pytest

from services.runtime import pull_feed
from services.runtime.bus import Bus, ConsumerSpec
from services.runtime.pull_feed import PullFeed

SPEC = ConsumerSpec("feed-probe", ("task.feedprobe",))


async def _feed(bus: Bus, messages: int) -> PullFeed:
    await bus.ensure_consumer(SPEC, max_ack_pending=1000)
    for n in range(messages):
        await bus.js.publish("task.feedprobe", str(n).encode())
    feed = PullFeed(bus.nc, bus.stream, SPEC.durable)
    await feed.start()
    return feed


async def _ack_pending(bus: Bus) -> int:
    return (await bus.js.consumer_info(bus.stream, SPEC.durable)).num_ack_pending or 0


async def test_never_more_delivered_than_the_room_asked_for(bus: Bus) -> None:
    feed = await _feed(bus, 50)
    taken = await feed.take(5, timeout=2.0)
    await asyncio.sleep(0.3)  # anything beyond the room would have arrived by now
    assert 1 <= len(taken) <= 5
    assert await _ack_pending(bus) == 5
    taken += await feed.take(5 - len(taken), timeout=2.0)
    assert [m.data for m in taken] == [str(n).encode() for n in range(5)]
    await feed.close()


async def test_an_expired_request_is_renewed(bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pull_feed, "REQUEST_EXPIRES_SECS", 0.3)
    feed = await _feed(bus, 0)
    assert await feed.take(3, timeout=0.6) == []  # the request expired on the server meanwhile
    await bus.js.publish("task.feedprobe", b"late")
    taken = await feed.take(3, timeout=0.6) or await feed.take(3, timeout=2.0)
    assert [m.data for m in taken] == [b"late"]
    await feed.close()


async def test_close_hands_back_what_was_never_taken(bus: Bus) -> None:
    feed = await _feed(bus, 5)
    first = await feed.take(5, timeout=2.0)
    while len(first) < 5:
        first += await feed.take(5 - len(first), timeout=2.0)
    await first[0].ack()
    # Four arrived for a room of five and were not processed: close gives them back at once, so
    # another replica gets them now rather than after ack_wait (2 s here).
    feed._ready.extend(first[1:])
    await feed.close()
    other = PullFeed(bus.nc, bus.stream, SPEC.durable)
    await other.start()
    again = await other.take(5, timeout=0.5)
    while len(again) < 4:
        more = await other.take(5 - len(again), timeout=0.5)
        assert more, f"only {len(again)} of 4 came back within a second"
        again += more
    assert sorted(m.data for m in again) == [b"1", b"2", b"3", b"4"]
    await other.close()


async def test_a_missing_consumer_is_waited_on_not_spun_on(bus: Bus) -> None:
    feed = PullFeed(bus.nc, bus.stream, "no-such-consumer")
    await feed.start()
    assert await feed.take(4, timeout=0.5) == []
    assert await feed.take(4, timeout=0.5) == []
    assert not feed.flowing
    await feed.close()
