"""Reading the stream as a log: replay from the start (audit, KPIs) or follow new events (tail)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.runtime.bus import Bus

EVENT_SUBJECTS = ("ticket.>", "task.>")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One stored message: where it sits in the stream and its raw payload."""

    subject: str
    stream_seq: int
    data: bytes


async def read_stream(
    bus: Bus,
    subjects: tuple[str, ...] = EVENT_SUBJECTS,
    *,
    follow: bool = False,
    new_only: bool = False,
    batch: int = 1000,
) -> AsyncGenerator[StoredMessage, None]:
    """Yield stored messages in order; stop at the end unless `follow`. Uses a throwaway consumer, no acks."""
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.NEW if new_only else DeliverPolicy.ALL,
        filter_subjects=list(subjects),
        inactive_threshold=60.0,
        mem_storage=True,
        num_replicas=1,
    )
    info = await bus.js.add_consumer(bus.stream, config)
    name = info.name
    sub = await bus.js.pull_subscribe_bind(consumer=name, stream=bus.stream)
    try:
        remaining = info.num_pending or 0
        while follow or remaining > 0:
            try:
                msgs = await sub.fetch(batch, timeout=1.0)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            for msg in msgs:
                meta = msg.metadata
                remaining = meta.num_pending or 0
                yield StoredMessage(msg.subject, meta.sequence.stream, msg.data)
    finally:
        with contextlib.suppress(nats.errors.Error):
            await sub.unsubscribe()
        # If the delete fails, inactive_threshold removes the consumer anyway.
        with contextlib.suppress(nats.errors.Error):
            await bus.js.delete_consumer(bus.stream, name)
