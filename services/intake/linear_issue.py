"""Pure core: a Linear issue (webhook `data` or GraphQL node) becomes a Candidate, filtered as configured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from schemas import Ticket
from services.intake.candidate import Candidate, MappingRules
from services.intake.ticket_mapping import clean_labels, ghost_hint, risk_from_labels, risk_from_linear_priority

SOURCE = "linear"


class _Named(msgspec.Struct, frozen=True):
    id: str | None = None
    name: str | None = None
    key: str | None = None
    email: str | None = None
    displayName: str | None = None
    type: str | None = None


class _LabelConnection(msgspec.Struct, frozen=True):
    nodes: list[_Named] = []


class LinearIssue(msgspec.Struct, frozen=True):
    """The fields of Linear's `Issue` that intake reads; webhooks and GraphQL differ only in `labels`."""

    id: str
    title: str
    identifier: str | None = None
    description: str | None = None
    priority: float | None = None
    url: str | None = None
    updatedAt: str = ""
    state: _Named | None = None
    team: _Named | None = None
    teamId: str | None = None
    project: _Named | None = None
    projectId: str | None = None
    assignee: _Named | None = None
    labels: list[_Named] | _LabelConnection = []


@dataclass(frozen=True, slots=True)
class LinearFilters:
    """`[ticket_intake.linear]` filters; an empty list matches everything."""

    project_ids: Sequence[str] = ()
    status_filter: Sequence[str] = ()
    assignee_filter: Sequence[str] = ()
    label_filter: Sequence[str] = ()


def _labels(issue: LinearIssue) -> tuple[str, ...]:
    items = issue.labels.nodes if isinstance(issue.labels, _LabelConnection) else issue.labels
    return clean_labels(label.name or "" for label in items)


def matches(issue: LinearIssue, filters: LinearFilters) -> bool:
    """Project, state name, assignee (id, name, display name or email) and label filters, all of them."""
    project = issue.projectId or (issue.project.id if issue.project else None)
    if filters.project_ids and project not in filters.project_ids:
        return False
    state = issue.state.name if issue.state else None
    if filters.status_filter and (state or "").lower() not in {s.lower() for s in filters.status_filter}:
        return False
    if filters.assignee_filter:
        who = issue.assignee
        names = {who.id, who.name, who.displayName, who.email} if who else set()
        if not names & set(filters.assignee_filter):
            return False
    if filters.label_filter:
        wanted = {label.lower() for label in filters.label_filter}
        if not wanted & {label.lower() for label in _labels(issue)}:
            return False
    return True


def to_candidate(
    issue: LinearIssue, filters: LinearFilters, rules: MappingRules, delivery_key: str | None, action: str
) -> Candidate:
    """The Candidate for this issue; the content key is type + id + action + updatedAt."""
    labels = _labels(issue)
    priority = int(issue.priority) if issue.priority is not None else None
    ticket = Ticket(
        source=SOURCE,
        external_id=issue.identifier or issue.id,
        title=issue.title.strip() or "(untitled)",
        description=issue.description or "",
        risk_tier=risk_from_labels(labels, rules.risk_labels)
        or risk_from_linear_priority(priority)
        or rules.default_risk_tier,
        labels=labels,
        url=issue.url,
        ghost_hint=ghost_hint(labels),
        state=issue.state.name if issue.state else None,
        priority=priority,
        provider_id=issue.id,
        team_id=issue.teamId or (issue.team.id if issue.team else None),
    )
    content_key = f"linear:Issue:{issue.id}:{action}:{issue.updatedAt}"
    return Candidate(ticket, matches(issue, filters), content_key, delivery_key)
