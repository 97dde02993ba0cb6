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


def index_key(ticket_id: str) -> str:
    """The KV key prefix of a ticket's index (hashed: ticket ids hold characters keys may not)."""
    return "t." + hashlib.sha256(ticket_id.encode()).hexdigest()[:40]


async def sequences(bus: Bus, ticket_id: str) -> list[int] | None:
    """The ticket's stream sequences in order, or None when the index has never seen it."""
    # One key per indexed event, so the ticket's keys are the bucket's subjects under its prefix;
    # the stream reports those in one request, with no consumer and no scan.
    subjects = f"$KV.{INDEX_BUCKET}.{index_key(ticket_id)}.*"
    try:
        info = await bus.js.stream_info(f"KV_{INDEX_BUCKET}", subjects_filter=subjects)
    except nats.js.errors.NotFoundError:
        return None  # no indexer has run on this stream yet
    found = info.state.subjects or {}
    if not found:
        return None
    # Only keys this module writes end in a sequence number; anything else in the bucket is ignored.
    tails = (subject.rsplit(".", 1)[1] for subject in found)
    return sorted(int(tail) for tail in tails if tail.isdecimal()) or None


async def add(kv: KeyValue, ticket_id: str, seq: int) -> None:
    """Record that stream message `seq` belongs to the ticket: one write, no read, idempotent."""
    try:
        await kv.put(f"{index_key(ticket_id)}.{seq}", b"")
    except nats.errors.Error as exc:
        raise TransientError(f"audit index unavailable: {exc}") from None


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
