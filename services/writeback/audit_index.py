"""A per-ticket index of stream sequences (KV), so `sparks audit` reads one ticket's events directly
instead of scanning the whole log."""

from __future__ import annotations

import hashlib
from contextlib import AsyncExitStack

import msgspec
import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

from schemas import EVENT_TYPES, subject_of
from services.runtime.bus import Bus, ConsumerSpec
from services.runtime.config import Config
from services.runtime.consumer import Handler, Inbound
from services.runtime.errors import TransientError
from services.runtime.event_mapper import MAPPER

INDEX_BUCKET = "sparks_audit_index"
_SEQS = msgspec.json.Decoder(list[int])
_ENCODER = msgspec.json.Encoder()
_CAS_ATTEMPTS = 10


def index_key(ticket_id: str) -> str:
    """The KV key of a ticket's index (hashed: ticket ids hold characters keys may not)."""
    return "t." + hashlib.sha256(ticket_id.encode()).hexdigest()[:40]


async def sequences(kv: KeyValue, ticket_id: str) -> list[int] | None:
    """The ticket's stream sequences in order, or None when the index has never seen it."""
    try:
        entry = await kv.get(index_key(ticket_id))
    except nats.js.errors.KeyNotFoundError:
        return None
    return _SEQS.decode(entry.value or b"[]")


async def add(kv: KeyValue, ticket_id: str, seq: int) -> None:
    """Append `seq` to the ticket's index; idempotent and safe with several indexers (compare-and-set)."""
    key = index_key(ticket_id)
    for _ in range(_CAS_ATTEMPTS):
        try:
            entry = await kv.get(key)
            seqs, revision = _SEQS.decode(entry.value or b"[]"), entry.revision
        except nats.js.errors.KeyNotFoundError:
            seqs, revision = [], 0
        if seq in seqs:
            return
        value = _ENCODER.encode(sorted([*seqs, seq]))
        try:
            if revision:
                await kv.update(key, value, last=revision)
            else:
                await kv.create(key, value)
            return
        except nats.js.errors.KeyWrongLastSequenceError:
            continue
        except nats.errors.Error as exc:
            raise TransientError(f"audit index unavailable: {exc}") from None
    raise TransientError(f"audit index for {ticket_id} is contended; will retry")


async def build_handler(bus: Bus, config: Config, resources: AsyncExitStack) -> Handler:
    """Index every event by its ticket."""
    kv = await bus.key_value(INDEX_BUCKET)

    async def handle(msg: Inbound) -> None:
        try:
            event = MAPPER.decode(msg.data)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return  # not an event (cannot happen on these subjects); nothing to index
        await add(kv, event.ticket_id, msg.stream_seq)

    return handle


CONSUMER = ConsumerSpec(durable="audit-index", filter_subjects=tuple(subject_of(t) for t in EVENT_TYPES))
