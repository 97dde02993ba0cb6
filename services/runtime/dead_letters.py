"""`sparks dlq list|replay`: see what the services gave up on, and put it back after fixing the cause."""

from __future__ import annotations

import msgspec

from services.runtime.bus import DEAD_LETTER_PREFIX, Bus
from services.runtime.consumer import DeadLetterRecord
from services.runtime.errors import ConfigError
from services.runtime.event_mapper import OutboundMessage
from services.runtime.stream_reader import read_stream

_DECODER = msgspec.json.Decoder(DeadLetterRecord)


async def dead_letters(bus: Bus) -> list[tuple[int, DeadLetterRecord]]:
    """Every dead letter with its own stream sequence (the id `replay` takes)."""
    found = []
    async for stored in read_stream(bus, (f"{DEAD_LETTER_PREFIX}.>",)):
        try:
            found.append((stored.stream_seq, _DECODER.decode(stored.data)))
        except (msgspec.DecodeError, UnicodeDecodeError):
            continue
    return found


async def replay(bus: Bus, seq: int) -> str:
    """Publish the dead message again on its original subject, as a new message the service will take."""
    for dlq_seq, record in await dead_letters(bus):
        if dlq_seq == seq:
            # A fresh Nats-Msg-Id: the original id may still be inside the duplicate window.
            message = OutboundMessage(record.subject, {"Nats-Msg-Id": f"dlq-replay-{seq}"}, record.data.encode())
            fresh = await bus.publish_message(message)
            return (
                f"replayed dead letter {seq} to {record.subject}"
                if fresh
                else f"dead letter {seq} was already replayed"
            )
    raise ConfigError(f"no dead letter with sequence {seq}; `sparks dlq list` shows them")
