"""`sparks dlq`: a message that exhausted its deliveries is listed with its error and can be replayed."""

from __future__ import annotations

import asyncio

import pytest

from services.runtime.bus import Bus, ConsumerSpec
from services.runtime.config import Config
from services.runtime.consumer import ConsumerLoop, Inbound
from services.runtime.dead_letters import dead_letters, replay
from services.runtime.errors import ConfigError, TransientError


async def test_dead_letter_is_listed_and_replayed_after_the_fix(bus: Bus, config: Config) -> None:
    healthy = asyncio.Event()
    handled: list[bytes] = []

    async def handler(msg: Inbound) -> None:
        if not healthy.is_set():
            raise TransientError("downstream is down")
        handled.append(msg.data)

    loop = ConsumerLoop(bus, ConsumerSpec("probe", ("task.probe",)), handler, concurrency=2, service="probe")
    task = asyncio.create_task(loop.run())
    await bus.js.publish("task.probe", b"precious work")
    for _ in range(100):
        if letters := await dead_letters(bus):
            break
        await asyncio.sleep(0.1)
    [(seq, record)] = letters
    assert record.error == "TransientError: downstream is down"
    assert record.data == "precious work"

    healthy.set()
    assert await replay(bus, seq) == f"replayed dead letter {seq} to task.probe"
    assert await replay(bus, seq) == f"dead letter {seq} was already replayed"
    for _ in range(50):
        if handled:
            break
        await asyncio.sleep(0.1)
    loop.stop()
    await task
    assert handled == [b"precious work"]
    with pytest.raises(ConfigError, match="no dead letter with sequence 999999"):
        await replay(bus, 999_999)
