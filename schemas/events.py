"""The event contract: every event on the SPARKS stream, as frozen, tagged msgspec Structs.

Rules (msgspec's schema-evolution guide): add fields only with defaults; never rename, remove
or retype a field; the tag of an event is its subject and never changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

SCHEMA_VERSION = 1

RiskTier = Literal["low", "medium", "high", "critical"]
ScanDecision = Literal["allow", "flag", "block"]
Outcome = Literal["success", "rollback", "failed", "timeout", "rejected", "dry_run"]
WritebackStatus = Literal["done", "skipped", "failed"]


class Ticket(msgspec.Struct, frozen=True, kw_only=True):
    """A normalised ticket, carried forward by every later event so no service looks it up."""

    source: str
    external_id: str
    title: str
    description: str = ""
    repo: str | None = None
    risk_tier: RiskTier = "medium"
    labels: tuple[str, ...] = ()
    url: str | None = None
    callback_url: str | None = None
    author: str | None = None
    ghost_hint: str | None = None
    revision: int = 1
    # Added after v1 (with defaults, so v1 payloads still decode): provider facts writeback needs.
    state: str | None = None
    priority: int | None = None
    provider_id: str | None = None
    team_id: str | None = None

    @property
    def ticket_id(self) -> str:
        """The stable identity `<source>:<external id>`."""
        return f"{self.source}:{self.external_id}"


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One scanner rule that matched: which, how bad, and where (span is redacted for secrets)."""

    rule_id: str
    risk_class: str
    severity: int
    span: str
    hidden: bool = False
    # Added after v1: how the text was hidden (html_comment, zero_width, base64, ...), "" when visible.
    form: str = ""


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Fields every event carries; `event_id` is deterministic and doubles as `Nats-Msg-Id`."""

    event_id: str
    ticket_id: str
    occurred_at: datetime
    causation_id: str | None
    version: int = SCHEMA_VERSION


class TicketReceived(Event, frozen=True, kw_only=True, tag="ticket.received"):
    """Intake validated and normalised a ticket."""

    ticket: Ticket


class TicketRejected(Event, frozen=True, kw_only=True, tag="ticket.rejected"):
    """Input that could not become a ticket; `reason` says what to change."""

    source: str
    reason: str
    problems: tuple[str, ...] = ()
    size_bytes: int = 0
    sha256: str = ""
    excerpt: str = ""


class TicketScanned(Event, frozen=True, kw_only=True, tag="ticket.scanned"):
    """The scanner's decision on a ticket's text."""

    ticket: Ticket
    decision: ScanDecision
    score: float
    findings: tuple[Finding, ...] = ()


class TaskStarted(Event, frozen=True, kw_only=True, tag="task.started"):
    """A ghost took the task; `reason` explains why that ghost."""

    ticket: Ticket
    task_id: str
    ghost: str
    reason: str
    attempt: int = 1
    scan_decision: ScanDecision = "allow"


class TaskCompleted(Event, frozen=True, kw_only=True, tag="task.completed"):
    """How the task ended. `rejected` means the scanner blocked it and nothing ran."""

    ticket: Ticket
    task_id: str
    ghost: str | None
    outcome: Outcome
    summary: str
    pr_url: str | None = None
    duration_ms: int = 0
    scan_decision: ScanDecision = "allow"


class TaskHeld(Event, frozen=True, kw_only=True, tag="task.held"):
    """The task waits for a person: its risk tier requires approval (`sparks approve` / `sparks deny`)."""

    ticket: Ticket
    task_id: str
    reason: str
    scan_decision: ScanDecision = "allow"
    score: float = 0.0
    findings: tuple[Finding, ...] = ()


class TaskApproved(Event, frozen=True, kw_only=True, tag="task.approved"):
    """A person approved a held task; it carries what the dispatcher needs to run it."""

    ticket: Ticket
    task_id: str
    approved_by: str
    scan_decision: ScanDecision = "allow"
    score: float = 0.0
    findings: tuple[Finding, ...] = ()


class TaskDenied(Event, frozen=True, kw_only=True, tag="task.denied"):
    """A person refused a held task; it completes as rejected without running."""

    ticket: Ticket
    task_id: str
    denied_by: str
    reason: str = ""


class TicketWrittenBack(Event, frozen=True, kw_only=True, tag="ticket.written_back"):
    """What was written to the ticket's source (or why nothing was) and whether it worked."""

    target: str
    status: WritebackStatus
    detail: str
    outcome: Outcome
    task_id: str


class TicketProgressWritten(Event, frozen=True, kw_only=True, tag="ticket.progress_written"):
    """Writeback told the source that work started (e.g. moved a Linear issue to In Progress), or why not."""

    target: str
    status: WritebackStatus
    detail: str
    task_id: str


AnyEvent = (
    TicketReceived
    | TicketRejected
    | TicketScanned
    | TaskHeld
    | TaskApproved
    | TaskDenied
    | TaskStarted
    | TaskCompleted
    | TicketWrittenBack
    | TicketProgressWritten
)

EVENT_TYPES: tuple[type[Event], ...] = (
    TicketReceived,
    TicketRejected,
    TicketScanned,
    TaskHeld,
    TaskApproved,
    TaskDenied,
    TaskStarted,
    TaskCompleted,
    TicketWrittenBack,
    TicketProgressWritten,
)


def subject_of(event_type: type[Event]) -> str:
    """The subject an event type is published on: its stable tag."""
    tag = event_type.__struct_config__.tag
    assert isinstance(tag, str)
    return tag
