"""`sparks approve|deny TICKET_ID` and `sparks pause|resume`: an operator's decisions, published as events."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import msgspec

from schemas import TaskApproved, TaskDenied, TaskHeld
from services.dispatcher.dispatch_control import DispatchControl
from services.runtime.bus import Bus
from services.runtime.errors import ConfigError
from services.runtime.event_mapper import MAPPER, derived_event_id
from services.runtime.stream_reader import read_stream


async def latest_hold(bus: Bus, ticket_id: str) -> TaskHeld:
    """The newest `task.held` of a ticket; ConfigError (exit 2, a clear message) if it has none."""
    found: TaskHeld | None = None
    async for stored in read_stream(bus, ("task.held",)):
        try:
            event = MAPPER.decode(stored.data)
        except (msgspec.DecodeError, UnicodeDecodeError):
            continue
        if isinstance(event, TaskHeld) and event.ticket_id == ticket_id:
            found = event
    if found is None:
        raise ConfigError(f"{ticket_id} is not waiting for approval (sparks audit {ticket_id} shows its story)")
    return found


async def decide(bus: Bus, ticket_id: str, approve: bool, by: str | None = None, reason: str = "") -> str:
    """Publish the decision on the held task; idempotent (deciding twice publishes one event)."""
    held = await latest_hold(bus, ticket_id)
    who = by or getpass.getuser()
    # Both decisions answer the hold with the same envelope and the same id: only one can exist.
    common = {
        "event_id": derived_event_id(held.event_id, "decision"),
        "ticket_id": ticket_id,
        "occurred_at": datetime.now(UTC),
        "causation_id": held.event_id,
        "ticket": held.ticket,
        "task_id": held.task_id,
    }
    event: TaskApproved | TaskDenied
    if approve:
        scan = {"scan_decision": held.scan_decision, "score": held.score, "findings": held.findings}
        event = TaskApproved(approved_by=who, **common, **scan)  # type: ignore[arg-type]
    else:
        event = TaskDenied(denied_by=who, reason=reason, **common)  # type: ignore[arg-type]
    fresh = await bus.publish(event)
    verb = "approved" if approve else "denied"
    return f"{ticket_id} {verb} by {who}" if fresh else f"{ticket_id} was already decided; nothing changed"


async def set_paused(bus: Bus, paused: bool) -> str:
    """Pause or resume dispatching for every replica."""
    await (await DispatchControl.open(bus)).set_paused(paused)
    return "dispatching paused: running tasks finish, new ones wait in the stream" if paused else "dispatching resumed"
