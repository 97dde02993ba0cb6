"""Shell: operator controls kept in KV — pause/resume dispatching — read cheaply by every replica."""

from __future__ import annotations

import time

import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

from services.runtime.bus import Bus

CONTROL_BUCKET = "sparks_control"
DISPATCH_KEY = "dispatch"
PAUSED = b"paused"
RUNNING = b"running"


class DispatchControl:
    """Whether new tasks may start; looked up at most once a second."""

    def __init__(self, kv: KeyValue, cache_secs: float = 1.0) -> None:
        self._kv = kv
        self._cache_secs = cache_secs
        self._checked_at = 0.0
        self._paused = False

    @classmethod
    async def open(cls, bus: Bus) -> DispatchControl:
        """Open (create) the control bucket."""
        return cls(await bus.key_value(CONTROL_BUCKET))

    async def set_paused(self, paused: bool) -> None:
        """`sparks pause` / `sparks resume`."""
        await self._kv.put(DISPATCH_KEY, PAUSED if paused else RUNNING)
        self._checked_at = 0.0

    async def paused(self) -> bool:
        """True while an operator paused dispatching (running tasks still finish)."""
        now = time.monotonic()
        if now - self._checked_at >= self._cache_secs:
            try:
                entry = await self._kv.get(DISPATCH_KEY)
                self._paused = entry.value == PAUSED
            except nats.js.errors.KeyNotFoundError:
                self._paused = False
            except nats.errors.Error:
                pass  # keep the last known state through a broker blip
            self._checked_at = now
        return self._paused

    async def may_fetch(self) -> bool:
        """The consume loop's gate."""
        return not await self.paused()
