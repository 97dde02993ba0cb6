"""Shell: carry out the Linear plan — read the issue, post the one comment, move the state."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from schemas import TaskCompleted, TaskStarted, WritebackStatus
from services.runtime.config import LinearWritebackConfig
from services.runtime.linear_api import LinearApi, LinearPermanentError
from services.writeback import linear_queries as q
from services.writeback.linear_plan import (
    Move,
    WorkflowState,
    comment_body,
    comment_id,
    outcome_target,
    plan_move,
    started_state,
)


class _State(msgspec.Struct, frozen=True):
    id: str
    name: str
    type: str = ""
    position: float = 0.0


class _States(msgspec.Struct, frozen=True):
    nodes: list[_State] = []


class _Team(msgspec.Struct, frozen=True):
    id: str
    states: _States = _States()


class _Issue(msgspec.Struct, frozen=True):
    id: str
    state: _State
    team: _Team
    identifier: str | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """One `ticket.written_back` / `ticket.progress_written` worth of outcome."""

    status: WritebackStatus
    detail: str


class LinearWriter:
    """Writes task progress and outcomes to Linear issues; workflow states are cached per team."""

    def __init__(self, api: LinearApi, config: LinearWritebackConfig) -> None:
        self._api = api
        self._config = config
        self._states: dict[str, list[WorkflowState]] = {}

    async def _issue(self, issue_id: str) -> tuple[_Issue, list[WorkflowState]]:
        data = await self._api.execute(q.ISSUE_STATE, {"id": issue_id})
        issue = msgspec.convert(data.get("issue"), _Issue | None)
        if issue is None:
            raise LinearPermanentError(f"issue {issue_id} not found (deleted?)")
        if issue.team.id not in self._states:
            self._states[issue.team.id] = [
                WorkflowState(s.id, s.name, s.type, s.position) for s in issue.team.states.nodes
            ]
        return issue, self._states[issue.team.id]

    async def _move(self, issue: _Issue, plan: Move) -> str:
        await self._api.execute(q.MOVE_ISSUE, {"id": issue.id, "stateId": plan.state.id})
        return f"moved from {issue.state.name} to {plan.state.name}"

    async def started(self, event: TaskStarted) -> WriteResult:
        """Move the issue to the started state if it is still where intake saw it."""
        ticket = event.ticket
        try:
            issue, states = await self._issue(ticket.provider_id or ticket.external_id)
        except LinearPermanentError as exc:
            return WriteResult("failed", str(exc))
        target = started_state(states, self._config.started_state)
        plan = plan_move(issue.state.name, target, [ticket.state] if ticket.state else [])
        if isinstance(plan, Move):
            return WriteResult("done", await self._move(issue, plan))
        return WriteResult(plan.status, plan.detail)  # type: ignore[arg-type]

    async def completed(self, event: TaskCompleted) -> WriteResult:
        """Post the one comment (client-chosen id), then move the state by outcome unless a person moved it."""
        ticket = event.ticket
        try:
            issue, states = await self._issue(ticket.provider_id or ticket.external_id)
            posted = await self._comment(issue.id, event)
        except LinearPermanentError as exc:
            return WriteResult("failed", str(exc))
        target = outcome_target(event.outcome, self._config.outcome_states, states)
        started = started_state(states, self._config.started_state)
        expected = [s for s in (started.name if started else None, ticket.state) if s]
        plan = plan_move(issue.state.name, target, expected)
        try:
            moved = await self._move(issue, plan) if isinstance(plan, Move) else plan.detail
        except LinearPermanentError as exc:
            return WriteResult("failed", f"{posted}; state not changed: {exc}")
        status: WritebackStatus = "skipped" if not isinstance(plan, Move) and plan.status == "skipped" else "done"
        return WriteResult(status, f"{posted}; {moved}")

    async def _comment(self, issue_id: str, event: TaskCompleted) -> str:
        cid = comment_id(event.task_id)
        try:
            await self._api.execute(q.CREATE_COMMENT, {"id": cid, "issueId": issue_id, "body": comment_body(event)})
        except LinearPermanentError:
            # A retry after a crash: the comment with our id is already there. Anything else is real.
            found = await self._api.execute(q.FIND_COMMENT, {"id": cid})
            if not (found.get("comment") or {}).get("id"):
                raise
            return "comment already posted"
        return "comment posted"
