"""Pure core: is this change a new revision of the ticket, the same one again, or nothing to start?"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import msgspec

from schemas import Ticket


class TicketRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What intake remembers per ticket (in a KV bucket): the last content and revision it published."""

    fingerprint: str
    revision: int
    active: bool


@dataclass(frozen=True, slots=True)
class RevisionDecision:
    """`publish` the ticket as `revision`, then store `record`; `reason` is for logs and the HTTP answer."""

    publish: bool
    revision: int
    record: TicketRecord
    reason: str


def fingerprint(ticket: Ticket) -> str:
    """What makes a change meaningful: title, description and labels (not state, not our comments)."""
    material = "\x00".join([ticket.title, ticket.description, *sorted(ticket.labels)])
    return hashlib.sha256(material.encode()).hexdigest()


def decide(previous: TicketRecord | None, ticket: Ticket, active: bool) -> RevisionDecision:
    """New ticket, edited ticket, or one a person moved back into an active state -> a new revision.

    Moving between active states (our own "In Progress" move) or leaving them is never one.
    """
    fp = fingerprint(ticket)
    if not active:
        revision = previous.revision if previous else 0
        return RevisionDecision(
            False, revision, TicketRecord(fingerprint=fp, revision=revision, active=False), "inactive"
        )
    if previous is None or previous.revision == 0:
        return RevisionDecision(True, 1, TicketRecord(fingerprint=fp, revision=1, active=True), "new")
    if previous.fingerprint != fp:
        rev = previous.revision + 1
        return RevisionDecision(True, rev, TicketRecord(fingerprint=fp, revision=rev, active=True), "edited")
    if not previous.active:
        rev = previous.revision + 1
        return RevisionDecision(True, rev, TicketRecord(fingerprint=fp, revision=rev, active=True), "reopened")
    return RevisionDecision(False, previous.revision, previous, "unchanged")
