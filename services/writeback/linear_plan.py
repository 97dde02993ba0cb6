"""Pure core: what to write to a Linear issue for a task event — comment text, target state, and
whether the issue's current state still allows us to move it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from schemas import TaskCompleted

COMMENT_NAMESPACE = uuid.UUID("9b0f0c43-3f5e-4d71-8a7e-0f4c1d2b6a55")
_OUTCOME_WORDS = {
    "success": "✅ Done",
    "rollback": "↩️ Rolled back",
    "failed": "❌ Failed",
    "timeout": "⏱️ Timed out",
    "rejected": "🛑 Not run",
    "dry_run": "🧪 Dry run",
}


@dataclass(frozen=True, slots=True)
class WorkflowState:
    """A team's workflow state."""

    id: str
    name: str
    type: str
    position: float


def comment_id(task_id: str) -> str:
    """The client-chosen comment id: the same for every retry of this task, so Linear stores it once."""
    return str(uuid.uuid5(COMMENT_NAMESPACE, f"{task_id}|comment"))


def _duration(ms: int) -> str:
    secs = ms / 1000
    return f"{secs:.1f} s" if secs < 120 else f"{secs / 60:.1f} min"


def comment_body(completed: TaskCompleted) -> str:
    """The one comment per task: outcome, summary, ghost, duration, links. Blocked tickets name no rules."""
    lines = [
        f"**sparks-intake** — {_OUTCOME_WORDS.get(completed.outcome, completed.outcome)}",
        "",
        completed.summary,
        "",
    ]
    facts = []
    if completed.ghost:
        facts.append(f"Ghost: `{completed.ghost}`")
    if completed.duration_ms:
        facts.append(f"Duration: {_duration(completed.duration_ms)}")
    if facts:
        lines.append(" · ".join(facts))
    if completed.pr_url:
        lines.append(f"Pull request: {completed.pr_url}")
    lines.append(f"Audit: `sparks audit {completed.ticket_id}` (task {completed.task_id})")
    return "\n".join(lines)


def started_state(states: Sequence[WorkflowState], name: str) -> WorkflowState | None:
    """The configured started state by name, else the team's lowest-position state of type `started`."""
    named = next((s for s in states if s.name.lower() == name.lower()), None)
    if named is not None:
        return named
    started = sorted((s for s in states if s.type == "started"), key=lambda s: s.position)
    return started[0] if started else None


def state_named(states: Sequence[WorkflowState], name: str) -> WorkflowState | None:
    """A state by (case-insensitive) name."""
    return next((s for s in states if s.name.lower() == name.lower()), None)


@dataclass(frozen=True, slots=True)
class Move:
    """Move the issue to `state`."""

    state: WorkflowState


@dataclass(frozen=True, slots=True)
class Stay:
    """Leave the state as it is; `status` done (nothing to do) or skipped (a person moved it)."""

    status: str
    detail: str


def plan_move(current: str, target: WorkflowState | None, expected: Sequence[str]) -> Move | Stay:
    """Move only from a state we expect; a person's manual move is never overwritten."""
    if target is None:
        return Stay("done", f"state left at {current}: no state change for this outcome")
    if current.lower() == target.name.lower():
        return Stay("done", f"already in {target.name}")
    if current.lower() in {e.lower() for e in expected}:
        return Move(target)
    return Stay("skipped", f"skipped: moved by a person to {current}; left as it is")


def outcome_target(outcome: str, mapping: Mapping[str, str], states: Sequence[WorkflowState]) -> WorkflowState | None:
    """The state an outcome moves to (rejected and dry_run move nowhere: a dry run never closes a ticket)."""
    if outcome in ("rejected", "dry_run"):
        return None
    name = mapping.get(outcome)
    return state_named(states, name) if name else None
