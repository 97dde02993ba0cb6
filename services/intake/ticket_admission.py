"""Shell: dedupe a Candidate against KV, decide its revision, publish `ticket.received`, then mark it seen."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
import nats.js.errors
from nats.js.kv import KeyValue

from schemas import TicketReceived
from services.intake.candidate import Candidate
from services.intake.revision_policy import TicketRecord, decide
from services.runtime.bus import Bus
from services.runtime.errors import TransientError
from services.runtime.event_mapper import derived_event_id
from services.runtime.logging import get_logger

DEDUPE_BUCKET = "sparks_dedupe"
TICKETS_BUCKET = "sparks_tickets"
_RECORD_DECODER = msgspec.json.Decoder(TicketRecord)
_ENCODER = msgspec.json.Encoder()
_CAS_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Admitted:
    """What admission did: `accepted` (published), `duplicate`, `unchanged` or `inactive`."""

    status: str
    ticket_id: str
    revision: int


def _key(kind: str, value: str) -> str:
    # KV keys allow a small alphabet; hashing also keeps attacker-chosen ids out of key syntax.
    return f"{kind}.{hashlib.sha256(value.encode()).hexdigest()}"


class TicketAdmission:
    """Shared by webhooks and the poller, so the same change arriving both ways is one ticket."""

    def __init__(self, bus: Bus, dedupe: KeyValue, tickets: KeyValue) -> None:
        self._bus = bus
        self._dedupe = dedupe
        self._tickets = tickets
        self._log = get_logger(service="intake")

    @classmethod
    async def open(cls, bus: Bus, dedupe_ttl_secs: float) -> TicketAdmission:
        """Open the dedupe bucket (TTL longer than any provider's retries) and the ticket records."""
        return cls(bus, await bus.key_value(DEDUPE_BUCKET, ttl=dedupe_ttl_secs), await bus.key_value(TICKETS_BUCKET))

    async def _seen(self, key: str) -> bool:
        try:
            await self._dedupe.get(key)
        except nats.js.errors.KeyNotFoundError:
            return False
        return True

    async def admit(self, candidate: Candidate) -> Admitted:
        """Publish the candidate if it is a new revision; idempotent under redelivery and races."""
        ticket_id = candidate.ticket.ticket_id
        keys = [_key("c", candidate.content_key)]
        if candidate.delivery_key:
            keys.append(_key("d", f"{candidate.ticket.source}:{candidate.delivery_key}"))
        try:
            for key in keys:
                if await self._seen(key):
                    return Admitted("duplicate", ticket_id, 0)
            admitted = await self._decide_and_publish(candidate)
            # Marked seen only now: the publish above was acknowledged by the stream.
            for key in keys:
                await self._dedupe.put(key, b"1")
        except (nats.errors.Error, TimeoutError) as exc:
            raise TransientError(f"intake state unavailable: {type(exc).__name__}: {exc}") from None
        return admitted

    async def _decide_and_publish(self, candidate: Candidate) -> Admitted:
        ticket = candidate.ticket
        record_key = _key("t", ticket.ticket_id)
        for _ in range(_CAS_ATTEMPTS):
            try:
                entry = await self._tickets.get(record_key)
                previous: TicketRecord | None = _RECORD_DECODER.decode(entry.value or b"")
                last = entry.revision
            except nats.js.errors.KeyNotFoundError:
                previous, last = None, 0
            decision = decide(previous, ticket, candidate.active)
            if decision.publish:
                revised = msgspec.structs.replace(ticket, revision=decision.revision)
                await self._bus.publish(
                    TicketReceived(
                        # The content is in the id, so a racing edit with other text is never dropped as a duplicate.
                        event_id=derived_event_id(
                            f"{ticket.ticket_id}@{decision.revision}:{decision.record.fingerprint}", "intake"
                        ),
                        ticket_id=ticket.ticket_id,
                        occurred_at=datetime.now(UTC),
                        causation_id=candidate.content_key,
                        ticket=revised,
                    )
                )
            if decision.record == previous:
                return Admitted(decision.reason, ticket.ticket_id, decision.revision)
            try:
                if last:
                    await self._tickets.update(record_key, _ENCODER.encode(decision.record), last=last)
                else:
                    await self._tickets.create(record_key, _ENCODER.encode(decision.record))
            except nats.js.errors.KeyWrongLastSequenceError:
                continue  # another replica changed it meanwhile: decide again on what it wrote
            status = "accepted" if decision.publish else decision.reason
            self._log.info("ticket_admitted", ticket_id=ticket.ticket_id, status=status, revision=decision.revision)
            return Admitted(status, ticket.ticket_id, decision.revision)
        raise TransientError(f"{ticket.ticket_id}: too much contention on its record; will retry")
