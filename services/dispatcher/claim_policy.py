"""Pure core: given a task's claim record, run it now, wait, republish its result, or give up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import msgspec

from schemas import Outcome


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    """A task's claim in the `sparks_claims` bucket: who runs which attempt, and the result once finished."""

    attempt: int
    state: Literal["running", "finished"]
    owner: str
    heartbeat_at: float
    ghost: str | None = None
    outcome: Outcome | None = None
    summary: str = ""
    pr_url: str | None = None
    duration_ms: int = 0


@dataclass(frozen=True, slots=True)
class Run:
    """Start attempt `attempt` (a fresh task, or a retry after its runner died)."""

    attempt: int


@dataclass(frozen=True, slots=True)
class Wait:
    """Another replica is running it and still heartbeating: try again later."""


@dataclass(frozen=True, slots=True)
class Republish:
    """It finished (we crashed before acking): publish the stored result again; the stream dedupes it."""

    claim: Claim


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Complete it as failed without running it again; `reason` says why."""

    attempts: int
    reason: str


Step = Run | Wait | Republish | GiveUp


def next_step(claim: Claim | None, now: float, stale_after: float, max_attempts: int, retry_abandoned: bool) -> Step:
    """A claim whose runner went silent is failed (at most one run, the default) or, for ghosts that
    are safe to run twice, retried under the attempt cap."""
    if claim is None:
        return Run(1)
    if claim.state == "finished":
        return Republish(claim)
    if now - claim.heartbeat_at < stale_after:
        return Wait()
    if not retry_abandoned:
        return GiveUp(
            claim.attempt,
            f"the dispatcher running attempt {claim.attempt} stopped mid-run, so its result is unknown; not run "
            'again (dispatcher.abandoned = "fail"). Check the repository, then edit or re-open the ticket to retry.',
        )
    if claim.attempt < max_attempts:
        return Run(claim.attempt + 1)
    return GiveUp(claim.attempt, f"gave up after {claim.attempt} attempts: the dispatcher running it stopped each time")
