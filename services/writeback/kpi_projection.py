"""Pure core: KPIs as a fold over the event log — the original product's measures, computed from events."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas import (
    AnyEvent,
    TaskCompleted,
    TaskStarted,
    Ticket,
    TicketReceived,
    TicketScanned,
    TicketWrittenBack,
)

RUN_OUTCOMES = ("success", "rollback", "failed", "timeout")
DIMENSIONS = ("source", "repo", "risk_tier", "ghost")


@dataclass(slots=True)
class _Ticket:
    source: str
    repo: str
    risk_tier: str
    received_at: datetime | None = None
    ghost: str = "-"


@dataclass(slots=True)
class Measures:
    """Counts and durations of one group (a source, a repo, a risk tier, a ghost, or everything)."""

    received: int = 0
    scans: Counter[str] = field(default_factory=Counter)
    started: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    lead_secs: list[float] = field(default_factory=list)
    fix_secs: list[float] = field(default_factory=list)
    queue_secs: list[float] = field(default_factory=list)
    writebacks: Counter[str] = field(default_factory=Counter)

    def report(self) -> dict[str, Any]:
        """Plain numbers for printing or JSON."""
        runs = sum(self.outcomes[o] for o in RUN_OUTCOMES)
        attempts = sum(self.writebacks.values())
        return {
            "tickets_received": self.received,
            "scan": {"allowed": self.scans["allow"], "flagged": self.scans["flag"], "blocked": self.scans["block"]},
            "tasks_started": self.started,
            "tasks_completed": sum(self.outcomes.values()),
            "outcomes": dict(sorted(self.outcomes.items())),
            "rates": {o: _ratio(self.outcomes[o], runs) for o in RUN_OUTCOMES},
            "lead_time_secs": {"p50": _percentile(self.lead_secs, 50), "p95": _percentile(self.lead_secs, 95)},
            "mean_time_to_fix_secs": _mean(self.fix_secs),
            "queue_time_secs": {"p50": _percentile(self.queue_secs, 50), "p95": _percentile(self.queue_secs, 95)},
            "writeback_success_rate": _ratio(self.writebacks["done"] + self.writebacks["skipped"], attempts),
            "writeback_attempts": attempts,
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return round(ordered[rank - 1], 3)


class KpiProjection:
    """Apply events in stream order; `report()` gives overall and per-dimension measures."""

    def __init__(self, since: datetime | None = None) -> None:
        self._since = since
        self._tickets: dict[str, _Ticket] = {}
        self._task_ticket: dict[str, str] = {}
        self._groups: dict[str, defaultdict[str, Measures]] = {d: defaultdict(Measures) for d in DIMENSIONS}
        self._overall = Measures()
        self.events = 0

    def _facts(self, ticket: Ticket) -> _Ticket:
        key = f"{ticket.ticket_id}@{ticket.revision}"
        facts = self._tickets.get(key)
        if facts is None:
            facts = self._tickets[key] = _Ticket(ticket.source, ticket.repo or "-", ticket.risk_tier)
        return facts

    def _measures(self, facts: _Ticket, with_ghost: bool) -> list[Measures]:
        out = [
            self._overall,
            self._groups["source"][facts.source],
            self._groups["repo"][facts.repo],
            self._groups["risk_tier"][facts.risk_tier],
        ]
        if with_ghost and facts.ghost != "-":
            out.append(self._groups["ghost"][facts.ghost])
        return out

    def apply(self, event: AnyEvent) -> None:
        """Fold one event in."""
        if self._since is not None and event.occurred_at < self._since:
            return
        self.events += 1
        match event:
            case TicketReceived(ticket=t):
                facts = self._facts(t)
                facts.received_at = event.occurred_at
                for m in self._measures(facts, with_ghost=False):
                    m.received += 1
            case TicketScanned(ticket=t, decision=d):
                for m in self._measures(self._facts(t), with_ghost=False):
                    m.scans[d] += 1
            case TaskStarted(ticket=t, ghost=g, task_id=tid):
                facts = self._facts(t)
                facts.ghost = g
                self._task_ticket[tid] = f"{t.ticket_id}@{t.revision}"
                queued = (event.occurred_at - facts.received_at).total_seconds() if facts.received_at else None
                for m in self._measures(facts, with_ghost=True):
                    m.started += 1
                    if queued is not None:
                        m.queue_secs.append(queued)
            case TaskCompleted(ticket=t, outcome=o, task_id=tid):
                facts = self._facts(t)
                facts.ghost = event.ghost or facts.ghost
                self._task_ticket[tid] = f"{t.ticket_id}@{t.revision}"
                lead = (event.occurred_at - facts.received_at).total_seconds() if facts.received_at else None
                for m in self._measures(facts, with_ghost=True):
                    m.outcomes[o] += 1
                    if lead is not None and o in RUN_OUTCOMES:
                        m.lead_secs.append(lead)
                    if lead is not None and o == "success":
                        m.fix_secs.append(lead)
            case TicketWrittenBack(status=s, task_id=tid):
                key = self._task_ticket.get(tid)
                owner = self._tickets.get(key) if key else None
                targets = self._measures(owner, with_ghost=True) if owner else [self._overall]
                for m in targets:
                    m.writebacks[s] += 1
            case _:
                return  # rejections, holds and decisions carry no KPI of their own

    def report(self) -> dict[str, Any]:
        """Everything, as plain data."""
        return {
            "events": self.events,
            "overall": self._overall.report(),
            **{f"by_{d}": {k: v.report() for k, v in sorted(groups.items())} for d, groups in self._groups.items()},
        }
