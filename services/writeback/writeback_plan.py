"""Pure core: decide where a completed task is reported and what the report says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

from schemas import TaskCompleted, TicketWrittenBack, WritebackStatus
from services.runtime.event_mapper import derived_event_id


class CallbackPayload(msgspec.Struct, frozen=True, kw_only=True):
    """The JSON POSTed to an envelope's `callback_url`."""

    ticket_id: str
    task_id: str
    outcome: str
    summary: str
    ghost: str | None
    pr_url: str | None
    duration_ms: int
    completed_at: datetime
    event_id: str


@dataclass(frozen=True, slots=True)
class Target:
    """One place to report to: `log` (always possible) or `callback` (an http URL)."""

    kind: str
    url: str | None = None


def targets_for(completed: TaskCompleted) -> list[Target]:
    """Where this outcome goes: the ticket's own tracker, its callback URL, else the log."""
    ticket = completed.ticket
    targets = []
    if ticket.source in ("linear", "github"):
        targets.append(Target(ticket.source))
    if ticket.callback_url:
        targets.append(Target("callback", ticket.callback_url))
    return targets or [Target("log")]


def callback_payload(completed: TaskCompleted) -> CallbackPayload:
    """The outcome as a callback receiver sees it."""
    return CallbackPayload(
        ticket_id=completed.ticket_id,
        task_id=completed.task_id,
        outcome=completed.outcome,
        summary=completed.summary,
        ghost=completed.ghost,
        pr_url=completed.pr_url,
        duration_ms=completed.duration_ms,
        completed_at=completed.occurred_at,
        event_id=completed.event_id,
    )


def written_back(
    completed: TaskCompleted, target: Target, status: WritebackStatus, detail: str, at: datetime
) -> TicketWrittenBack:
    """The `ticket.written_back` record of one attempt."""
    return TicketWrittenBack(
        event_id=derived_event_id(completed.event_id, f"writeback.{target.kind}"),
        ticket_id=completed.ticket_id,
        occurred_at=at,
        causation_id=completed.event_id,
        target=target.kind,
        status=status,
        detail=detail,
        outcome=completed.outcome,
        task_id=completed.task_id,
    )
