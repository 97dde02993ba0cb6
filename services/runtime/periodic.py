"""Run an action every few seconds for as long as a block of work lasts (heartbeats, lease renewals)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable


@contextlib.asynccontextmanager
async def every(interval: float, action: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
    """Call `action` every `interval` seconds until the block exits; the action handles its own errors."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            await action()

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
