"""`every`: heartbeats while a block runs, none after it, none for blocks shorter than the interval."""

from __future__ import annotations

import asyncio

from services.runtime.periodic import every


class Beats:
    """An action that counts how often it ran."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1


async def test_action_repeats_while_the_block_runs_and_stops_after_it() -> None:
    beat = Beats()
    async with every(0.05, beat):
        await asyncio.sleep(0.32)
    during = beat.calls
    await asyncio.sleep(0.15)
    assert 3 <= during <= 8  # about six; a busy machine may delay a beat or two
    assert beat.calls == during


async def test_a_block_shorter_than_the_interval_never_beats() -> None:
    beat = Beats()
    async with every(0.2, beat):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)
    assert beat.calls == 0


async def test_a_beat_in_progress_is_cancelled_when_the_block_ends() -> None:
    finished = asyncio.Event()

    async def slow_beat() -> None:
        await asyncio.sleep(10)
        finished.set()

    async with every(0.01, slow_beat):
        await asyncio.sleep(0.05)
    assert not finished.is_set()
