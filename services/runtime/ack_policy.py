"""The one place that decides how a processed message is settled: ack, nak with delay, or dead-letter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.runtime.errors import PoisonMessage


@dataclass(frozen=True, slots=True)
class Ack:
    """Everything the message caused is durable."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Redeliver after `delay` seconds."""

    delay: float


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Give up: store the message and `error` on the dead-letter subject, then terminate it."""

    error: str


Settlement = Ack | Retry | DeadLetter


def settle(error: BaseException | None, delivered: int, max_deliver: int, backoff: Sequence[float]) -> Settlement:
    """Decide what to do with a message after its handler returned (`error` None) or raised."""
    if error is None:
        return Ack()
    described = f"{type(error).__name__}: {error}"
    if isinstance(error, PoisonMessage) or delivered >= max_deliver:
        return DeadLetter(described)
    # Unknown errors are treated as transient: retrying is safe (derived events are deduplicated)
    # and the delivery cap bounds the cost.
    step = min(max(delivered - 1, 0), len(backoff) - 1) if backoff else -1
    return Retry(backoff[step] if step >= 0 else 1.0)
