"""Dispatcher shell: scanned (or approved) ticket -> claim -> ghost run with heartbeats -> task.completed."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec

from schemas import (
    Event,
    Finding,
    Outcome,
    ScanDecision,
    TaskApproved,
    TaskCompleted,
    TaskDenied,
    TaskHeld,
    TaskStarted,
    Ticket,
    TicketScanned,
    subject_of,
)
from services.dispatcher.claim_policy import Claim, GiveUp, Republish, Run, Wait, next_step
from services.dispatcher.dispatch_control import DispatchControl
from services.dispatcher.executors import ExecutorContext, execute
from services.dispatcher.ghost_selection import choose_ghost
from services.dispatcher.task_builder import build_task, task_id_for
from services.dispatcher.task_claims import ClaimLost, TaskClaims
from services.runtime.bus import Bus, ConsumerSpec
from services.runtime.config import Config
from services.runtime.consumer import Handler, Inbound
from services.runtime.errors import PoisonMessage, TransientError
from services.runtime.event_mapper import MAPPER, derived_event_id
from services.runtime.logging import get_logger
from services.runtime.periodic import every

BLOCKED_SUMMARY = (
    "Blocked by the prompt scanner: nothing was run. An operator can review it with `sparks audit {ticket_id}`."
)


def _now() -> datetime:
    return datetime.now(UTC)


def rejected_event(scanned: TicketScanned, at: datetime) -> TaskCompleted:
    """A blocked ticket completes as `rejected` without reaching a ghost; the summary names no rules."""
    return TaskCompleted(
        event_id=derived_event_id(scanned.event_id, "dispatcher.completed"),
        ticket_id=scanned.ticket_id,
        occurred_at=at,
        causation_id=scanned.event_id,
        ticket=scanned.ticket,
        task_id=task_id_for(scanned.ticket_id, scanned.ticket.revision),
        ghost=None,
        outcome="rejected",
        summary=BLOCKED_SUMMARY.format(ticket_id=scanned.ticket_id),
        scan_decision=scanned.decision,
    )


@dataclass(slots=True)
class _HeldClaim:
    """Our claim and its latest revision while we run the task."""

    claim: Claim
    revision: int


class Dispatcher:
    """The handler and what it needs: claims, ghosts and their per-ghost limits, shared clients."""

    def __init__(self, bus: Bus, config: Config, claims: TaskClaims, ctx: ExecutorContext) -> None:
        self._bus = bus
        self._cfg = config.dispatcher
        self._claims = claims
        self._ctx = ctx
        self._ghosts = {g.name: g for g in self._cfg.ghosts}
        self._slots = {g.name: asyncio.Semaphore(g.max_concurrency) for g in self._cfg.ghosts}
        self._beat = max(config.nats.ack_wait_secs / 3.0, 0.2)
        # A claim whose heartbeat is older than this belongs to a dead dispatcher.
        self._stale_after = max(config.nats.ack_wait_secs, 3 * self._beat)
        self._log = get_logger(service="dispatcher")

    async def handle(self, msg: Inbound) -> None:
        """Route by event type."""
        event = MAPPER.decode_as(msg.data, Event)
        match event:
            case TicketScanned(decision="block"):
                await self._bus.publish(rejected_event(event, _now()))
            case TicketScanned() if event.ticket.risk_tier in self._cfg.require_approval:
                await self._hold(event)
            case TicketScanned():
                await self._run(msg, event.ticket, event.event_id, event.decision, event.score, event.findings)
            case TaskApproved():
                await self._run(msg, event.ticket, event.event_id, event.scan_decision, event.score, event.findings)
            case TaskDenied():
                await self._complete_unrun(
                    event.ticket,
                    event.event_id,
                    "rejected",
                    f"denied by {event.denied_by}: {event.reason or 'no reason given'}",
                )
            case _:
                raise PoisonMessage(f"the dispatcher does not handle {type(event).__name__}")

    async def _hold(self, scanned: TicketScanned) -> None:
        tier = scanned.ticket.risk_tier
        await self._bus.publish(
            TaskHeld(
                event_id=derived_event_id(scanned.event_id, "dispatcher.held"),
                ticket_id=scanned.ticket_id,
                occurred_at=_now(),
                causation_id=scanned.event_id,
                ticket=scanned.ticket,
                task_id=task_id_for(scanned.ticket_id, scanned.ticket.revision),
                reason=f"risk tier {tier} requires approval: sparks approve {scanned.ticket_id} (or sparks deny)",
                scan_decision=scanned.decision,
                score=scanned.score,
                findings=scanned.findings,
            )
        )
        self._log.info("task.held", ticket_id=scanned.ticket_id, risk_tier=tier)

    async def _complete_unrun(self, ticket: Ticket, causation: str, outcome: Outcome, summary: str) -> None:
        await self._bus.publish(
            TaskCompleted(
                event_id=derived_event_id(causation, "dispatcher.completed"),
                ticket_id=ticket.ticket_id,
                occurred_at=_now(),
                causation_id=causation,
                ticket=ticket,
                task_id=task_id_for(ticket.ticket_id, ticket.revision),
                ghost=None,
                outcome=outcome,
                summary=summary,
            )
        )

    def _started(
        self, ticket: Ticket, causation: str, task_id: str, attempt: int, ghost: str, reason: str, scan: ScanDecision
    ) -> TaskStarted:
        return TaskStarted(
            event_id=derived_event_id(causation, f"dispatcher.started.{attempt}"),
            ticket_id=ticket.ticket_id,
            occurred_at=_now(),
            causation_id=causation,
            ticket=ticket,
            task_id=task_id,
            ghost=ghost,
            reason=reason,
            attempt=attempt,
            scan_decision=scan,
        )

    def _completed(
        self, ticket: Ticket, causation: str, task_id: str, claim: Claim, scan: ScanDecision
    ) -> TaskCompleted:
        started_id = derived_event_id(causation, f"dispatcher.started.{claim.attempt}")
        return TaskCompleted(
            event_id=derived_event_id(started_id, "dispatcher.completed"),
            ticket_id=ticket.ticket_id,
            occurred_at=_now(),
            causation_id=started_id,
            ticket=ticket,
            task_id=task_id,
            ghost=claim.ghost,
            outcome=claim.outcome or "failed",
            summary=claim.summary,
            pr_url=claim.pr_url,
            duration_ms=claim.duration_ms,
            scan_decision=scan,
        )

    async def _run(
        self,
        msg: Inbound,
        ticket: Ticket,
        causation: str,
        scan: ScanDecision,
        score: float,
        findings: tuple[Finding, ...],
    ) -> None:
        task_id = task_id_for(ticket.ticket_id, ticket.revision)
        choice = choose_ghost(ticket, self._cfg.ghosts, self._cfg.default_ghost)
        # Optimistic: a task normally has no claim yet, so try to create one straight away and read
        # the claim only when that loses (a redelivery, or another replica got there first).
        claim: Claim | None = None
        revision = 0
        while True:
            retry = self._cfg.abandoned == "retry"
            step = next_step(claim, time.time(), self._stale_after, self._cfg.max_attempts, retry)
            match step:
                case Wait():
                    raise TransientError(f"{task_id} is running on another dispatcher; checking again later")
                case Republish(claim=done):
                    await self._bus.publish(self._completed(ticket, causation, task_id, done, scan))
                    return
                case GiveUp(reason=summary):
                    assert claim is not None
                    finished = msgspec.structs.replace(claim, state="finished", outcome="failed", summary=summary)
                    await self._claims.write(task_id, finished, revision)
                    await self._bus.publish(self._completed(ticket, causation, task_id, finished, scan))
                    return
                case Run(attempt=attempt):
                    try:
                        revision = await self._claims.write(
                            task_id, self._claims.running(attempt, choice.ghost), revision
                        )
                    except ClaimLost:
                        claim, revision = await self._claims.read(task_id)
                        continue
                    break
        reason = (
            choice.reason if attempt == 1 else f"{choice.reason}; attempt {attempt} after the previous runner stopped"
        )
        await self._bus.publish(self._started(ticket, causation, task_id, attempt, choice.ghost, reason, scan))
        flagged = TicketScanned(
            event_id=causation, ticket_id=ticket.ticket_id, occurred_at=_now(), causation_id=None,
            ticket=ticket, decision=scan, score=score, findings=findings,
        )  # fmt: skip
        task = build_task(
            flagged,
            ghost=choice.ghost,
            default_repo=self._cfg.default_repo,
            nonce=secrets.token_hex(8),
            attempt=attempt,
        )
        ghost = self._ghosts.get(choice.ghost)
        slot = self._slots.get(choice.ghost) if ghost else None
        held = _HeldClaim(self._claims.running(attempt, choice.ghost), revision)
        async with msg.heartbeat(), self._renewing(task_id, held), slot or contextlib.nullcontext():
            run = await execute(task, ghost, self._ctx)
        finished = msgspec.structs.replace(
            held.claim, state="finished", outcome=run.verdict.outcome, summary=run.verdict.summary,
            pr_url=run.verdict.pr_url, duration_ms=run.duration_ms,
        )  # fmt: skip
        # The result is stored before it is published: a crash after this republishes it, never reruns it.
        await self._claims.write(task_id, finished, held.revision)
        await self._bus.publish(self._completed(ticket, causation, task_id, finished, scan))
        self._log.info("task.completed", ticket_id=ticket.ticket_id, task_id=task_id, outcome=finished.outcome)

    @contextlib.asynccontextmanager
    async def _renewing(self, task_id: str, held: _HeldClaim) -> AsyncIterator[None]:
        """Renew our claim's heartbeat while the ghost runs, so no replica takes it as abandoned."""

        async def renew() -> None:
            with contextlib.suppress(TransientError):
                renewed = self._claims.renewed(held.claim)
                held.revision = await self._claims.write(task_id, renewed, held.revision)
                held.claim = renewed

        async with every(self._beat, renew):
            yield


async def build_handler(bus: Bus, config: Config, resources: AsyncExitStack) -> Handler:
    """The dispatcher handler for this process (one claim owner id per process)."""
    claims = await TaskClaims.open(bus, owner=uuid.uuid4().hex)
    http = httpx.AsyncClient()
    resources.push_async_callback(http.aclose)
    ctx = ExecutorContext(Path(config.dispatcher.work_dir), http, bus.nc)
    return Dispatcher(bus, config, claims, ctx).handle


async def build_gate(bus: Bus) -> Callable[[], Awaitable[bool]]:
    """`sparks pause` stops fetching new tasks; running ones finish."""
    control = await DispatchControl.open(bus)
    return control.may_fetch


CONSUMER = ConsumerSpec(
    durable="dispatcher",
    filter_subjects=(subject_of(TicketScanned), subject_of(TaskApproved), subject_of(TaskDenied)),
)
