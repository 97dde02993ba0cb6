"""Orders a task's two tracker writes across writeback replicas: the outcome write must never be
undone by a late "work started" write (Todo -> Done, then a delayed -> In Progress).

Both writes read the issue's state and then change it, and trackers have no compare-and-set on an
issue's state; so the two are made mutually exclusive through one KV key per task:

    (none) --start begins--> starting --start ends--> started --outcome begins--> completing
    (none) --outcome begins--> completing            (a start that comes later is skipped)

A start that failed in a retryable way gives its mark back, so the outcome need not wait for it;
the outcome waits for a start that is still being written.
A `starting` mark older than `stale_after` belongs to a writer that died; the outcome takes over.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

from services.runtime.bus import Bus
from services.runtime.errors import TransientError

ORDER_BUCKET = "sparks_write_order"
ORDER_TTL_SECS = 7 * 24 * 3600
_CAS_ATTEMPTS = 10

Mark = Literal["starting", "started", "completing"]


@dataclass(frozen=True, slots=True)
class Seen:
    """The task's mark as read from the bucket, and how old it is."""

    mark: Mark
    age_secs: float


def start_may_write(seen: Seen | None, stale_after: float) -> bool:
    """The start write goes ahead on a fresh task, or in place of a start writer that died."""
    return seen is None or (seen.mark == "starting" and seen.age_secs >= stale_after)


def outcome_must_wait(seen: Seen | None, stale_after: float) -> bool:
    """The outcome waits only while a live start writer is mid-write."""
    return seen is not None and seen.mark == "starting" and seen.age_secs < stale_after


class WriteOrder:
    """The KV shell around the two decisions above."""

    def __init__(self, kv: KeyValue, stale_after: float, clock: Callable[[], float] = time.time) -> None:
        self._kv = kv
        self._stale_after = stale_after
        self._clock = clock

    @classmethod
    async def open(cls, bus: Bus, stale_after: float) -> WriteOrder:
        """Open (create) the bucket; marks expire after a week."""
        return cls(await bus.key_value(ORDER_BUCKET, ttl=ORDER_TTL_SECS), stale_after)

    async def _read(self, task_id: str) -> tuple[Seen | None, int]:
        try:
            entry = await self._kv.get(task_id)
        except nats.js.errors.KeyNotFoundError:
            return None, 0
        mark, _, at = (entry.value or b"").decode(errors="replace").partition(" ")
        if mark not in ("starting", "started", "completing"):
            return None, entry.revision or 0  # given back (empty) or unreadable: as if absent
        try:
            age = self._clock() - float(at)
        except ValueError:
            age = float("inf")  # no readable time: treat it as long past, so it can never block
        return Seen(mark, age), entry.revision or 0  # type: ignore[arg-type]

    async def _set(self, task_id: str, mark: Mark | Literal[""], revision: int) -> bool:
        value = f"{mark} {self._clock()}".encode() if mark else b""
        try:
            if revision:
                await self._kv.update(task_id, value, last=revision)
            else:
                await self._kv.create(task_id, value)
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        return True

    async def _advance(self, task_id: str, step: Callable[[Seen | None], Mark | Literal[""] | bool]) -> bool:
        """Compare-and-set the task's mark to what `step` makes of the current one; a bool from
        `step` is the answer without a write."""
        try:
            for _ in range(_CAS_ATTEMPTS):
                seen, revision = await self._read(task_id)
                target = step(seen)
                if isinstance(target, bool):
                    return target
                if await self._set(task_id, target, revision):
                    return True
        except nats.errors.Error as exc:
            raise TransientError(f"write-order bucket unavailable: {exc}") from None
        raise TransientError(f"write order of {task_id} is contended; will retry")

    async def begin_start(self, task_id: str) -> bool:
        """Take the start mark; False means the outcome is (being) written, so skip the start write."""
        return await self._advance(
            task_id, lambda seen: "starting" if start_may_write(seen, self._stale_after) else False
        )

    async def end_start(self, task_id: str, *, written: bool) -> None:
        """Record the start as written, or give the mark back so the outcome need not wait for a retry."""
        mark: Literal["started", ""] = "started" if written else ""
        await self._advance(task_id, lambda seen: mark if seen is not None and seen.mark == "starting" else False)

    async def begin_outcome(self, task_id: str, first_pause: float = 0.05, max_pause: float = 2.0) -> None:
        """Take the outcome mark, waiting while a live start write is in flight (at most `stale_after`).

        It waits here, under the caller's heartbeat, rather than failing the delivery: a start write
        held up by a long rate limit must not use up the outcome message's deliveries.
        """
        pause = first_pause
        while not await self._advance(task_id, self._outcome_step):
            await asyncio.sleep(pause)
            pause = min(pause * 2, max_pause)

    def _outcome_step(self, seen: Seen | None) -> Literal["completing"] | bool:
        if outcome_must_wait(seen, self._stale_after):
            return False
        if seen is not None and seen.mark == "completing":
            return True  # our own earlier delivery took it
        return "completing"
