"""Run an action every few seconds for as long as a block of work lasts (heartbeats, lease renewals)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable


@contextlib.asynccontextmanager
async def every(interval: float, action: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
    """Call `action` every `interval` seconds until the block exits; the action handles its own errors."""
    # A timer, not a task, until the first beat is due: most blocks (a dry run, a quick ghost) end
    # long before that, and a task per message is a real cost at thousands of messages a second.
    loop = asyncio.get_running_loop()
    beating: asyncio.Task[None] | None = None
    timer: asyncio.TimerHandle

    async def beat() -> None:
        nonlocal timer
        await action()
        timer = loop.call_later(interval, fire)

    def fire() -> None:
        nonlocal beating
        beating = loop.create_task(beat())

    timer = loop.call_later(interval, fire)
    try:
        yield
    finally:
        timer.cancel()
        if beating is not None and not beating.done():
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
