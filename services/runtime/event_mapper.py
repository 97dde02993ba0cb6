"""The one mapper between domain events and NATS messages (subject, `Nats-Msg-Id`, bytes)."""

from __future__ import annotations

import uuid
from typing import NamedTuple, TypeVar

import msgspec

from schemas import AnyEvent, Event
from services.runtime.errors import PoisonMessage

MSG_ID_HEADER = "Nats-Msg-Id"
# Namespace of derived event ids: uuid5(namespace, "<causation>|<stage>") is the same on every redelivery.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c1a52-3c0e-4f0a-9d55-2b7f5e2e9a10")


E = TypeVar("E", bound=Event)


class OutboundMessage(NamedTuple):
    """What goes on the wire for one event."""

    subject: str
    headers: dict[str, str]
    data: bytes


def derived_event_id(causation_id: str, stage: str) -> str:
    """A deterministic event id for the event that `stage` derives from `causation_id`."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{causation_id}|{stage}"))


class EventMapper:
    """Encodes events to messages and decodes stream payloads back to events; build once, reuse."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(AnyEvent)

    def to_message(self, event: Event) -> OutboundMessage:
        """Subject from the event's tag, `Nats-Msg-Id` from its event id, JSON bytes."""
        tag = type(event).__struct_config__.tag
        assert isinstance(tag, str), f"{type(event).__name__} has no tag"
        return OutboundMessage(tag, {MSG_ID_HEADER: event.event_id}, self._encoder.encode(event))

    def encode(self, event: Event) -> bytes:
        """The JSON bytes of one event."""
        return self._encoder.encode(event)

    def decode(self, data: bytes) -> AnyEvent:
        """Decode any event; raises msgspec.ValidationError/DecodeError on a bad payload."""
        event: AnyEvent = self._decoder.decode(data)
        return event

    def decode_as(self, data: bytes, expected: type[E]) -> E:
        """Decode a payload that must be an `expected` event; anything else is poison, never retried."""
        try:
            event = self._decoder.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise PoisonMessage(f"payload is not a valid {expected.__name__} event: {exc}") from None
        if not isinstance(event, expected):
            raise PoisonMessage(f"expected {expected.__name__}, got {type(event).__name__}")
        return event


MAPPER = EventMapper()
