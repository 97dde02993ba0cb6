"""Pure core: each provider's webhook body (already verified) becomes a Candidate, Ignored or Invalid."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from schemas import Ticket
from services.intake.candidate import Candidate, Ignored, Invalid, MappingRules, Parsed
from services.intake.linear_issue import LinearFilters, LinearIssue, to_candidate
from services.intake.submission_validator import IntakeLimits, validate_submission
from services.intake.ticket_mapping import clean_labels, ghost_hint, risk_from_labels
from services.runtime.validation_messages import explain_validation_error

MAX_ADF_NODES = 10_000


def _invalid(exc: Exception, raw: bytes) -> Invalid:
    if isinstance(exc, msgspec.ValidationError):
        try:
            parsed = msgspec.json.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            parsed = None
        return Invalid(explain_validation_error(exc, parsed, "unknown field"))
    return Invalid(f"body: not valid JSON ({exc})")


def _decode(raw: bytes, kind: type[Any]) -> Any:
    return msgspec.json.decode(raw, type=kind)


_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


# --- Linear -------------------------------------------------------------------------------


class _LinearWebhook(msgspec.Struct, frozen=True):
    action: str
    type: str
    data: msgspec.Raw
    webhookTimestamp: int
    url: str | None = None
    createdAt: str | None = None
    webhookId: str | None = None


def linear_timestamp_ms(raw: bytes) -> int | None:
    """`webhookTimestamp` (ms since epoch) if the body has one; checked before anything else is trusted."""
    try:
        return int(_decode(raw, _LinearWebhook).webhookTimestamp)
    except (*_DECODE_ERRORS, msgspec.ValidationError):
        return None


def parse_linear(raw: bytes, delivery: str | None, filters: LinearFilters, rules: MappingRules) -> Parsed:
    """Issue create/update events become tickets; other types and removals are acknowledged and ignored."""
    try:
        hook = _decode(raw, _LinearWebhook)
    except _DECODE_ERRORS as exc:
        return _invalid(exc, raw)
    if hook.type != "Issue":
        return Ignored(f"Linear {hook.type} events are not tickets")
    if hook.action not in ("create", "update"):
        return Ignored(f"Linear Issue {hook.action} is not work to start")
    try:
        issue = msgspec.json.decode(hook.data, type=LinearIssue)
    except _DECODE_ERRORS as exc:
        problem = _invalid(exc, bytes(hook.data)).problem
        return Invalid(f"data.{problem}" if not problem.startswith("body") else problem)
    return to_candidate(issue, filters, rules, delivery, hook.action)


# --- GitHub -------------------------------------------------------------------------------


class _GhLabel(msgspec.Struct, frozen=True):
    name: str = ""


class _GhUser(msgspec.Struct, frozen=True):
    login: str = ""


class _GhIssue(msgspec.Struct, frozen=True):
    number: int
    title: str
    state: str
    body: str | None = None
    labels: list[_GhLabel] = []
    html_url: str | None = None
    updated_at: str = ""
    user: _GhUser | None = None
    pull_request: dict[str, Any] | None = None


class _GhRepo(msgspec.Struct, frozen=True):
    full_name: str


class _GhIssuesEvent(msgspec.Struct, frozen=True):
    action: str
    issue: _GhIssue
    repository: _GhRepo


_GH_ACTIVE_ACTIONS = {"opened", "edited", "reopened", "labeled", "unlabeled"}


def parse_github(raw: bytes, event: str | None, delivery: str | None, rules: MappingRules) -> Parsed:
    """`issues` events on open issues are tickets; pings and other events are ignored."""
    if event != "issues":
        return Ignored(f"GitHub {event or 'unnamed'} events are not tickets")
    try:
        hook = _decode(raw, _GhIssuesEvent)
    except _DECODE_ERRORS as exc:
        return _invalid(exc, raw)
    issue = hook.issue
    if issue.pull_request is not None:
        return Ignored("pull requests are not tickets")
    labels = clean_labels(label.name for label in issue.labels)
    ticket = Ticket(
        source="github",
        external_id=f"{hook.repository.full_name}#{issue.number}",
        title=issue.title.strip() or "(untitled)",
        description=issue.body or "",
        repo=hook.repository.full_name,
        risk_tier=risk_from_labels(labels, rules.risk_labels) or rules.default_risk_tier,
        labels=labels,
        url=issue.html_url,
        author=issue.user.login if issue.user else None,
        ghost_hint=ghost_hint(labels),
        state=issue.state,
    )
    active = issue.state == "open" and hook.action in _GH_ACTIVE_ACTIONS
    key = f"github:{ticket.external_id}:{hook.action}:{issue.updated_at}"
    return Candidate(ticket, active, key, delivery)


# --- GitLab -------------------------------------------------------------------------------


class _GlLabel(msgspec.Struct, frozen=True):
    title: str = ""


class _GlAttributes(msgspec.Struct, frozen=True):
    iid: int
    title: str
    state: str = "opened"
    action: str = ""
    description: str | None = None
    updated_at: str = ""
    url: str | None = None
    labels: list[_GlLabel] = []


class _GlProject(msgspec.Struct, frozen=True):
    path_with_namespace: str


class _GlIssueHook(msgspec.Struct, frozen=True):
    object_kind: str
    object_attributes: _GlAttributes
    project: _GlProject


def parse_gitlab(raw: bytes, delivery: str | None, rules: MappingRules) -> Parsed:
    """Issue Hook events on opened issues are tickets."""
    try:
        kind = _decode(raw, dict[str, Any]).get("object_kind")
    except _DECODE_ERRORS as exc:
        return _invalid(exc, raw)
    if kind != "issue":
        return Ignored(f"GitLab {kind or 'unnamed'} events are not tickets")
    try:
        hook = _decode(raw, _GlIssueHook)
    except _DECODE_ERRORS as exc:
        return _invalid(exc, raw)
    attrs = hook.object_attributes
    labels = clean_labels(label.title for label in attrs.labels)
    path = hook.project.path_with_namespace
    ticket = Ticket(
        source="gitlab",
        external_id=f"{path}#{attrs.iid}",
        title=attrs.title.strip() or "(untitled)",
        description=attrs.description or "",
        repo=path,
        risk_tier=risk_from_labels(labels, rules.risk_labels) or rules.default_risk_tier,
        labels=labels,
        url=attrs.url,
        ghost_hint=ghost_hint(labels),
        state=attrs.state,
    )
    active = attrs.state == "opened" and attrs.action != "close"
    return Candidate(ticket, active, f"gitlab:{ticket.external_id}:{attrs.action}:{attrs.updated_at}", delivery)


# --- Jira ---------------------------------------------------------------------------------


class _JiraNamed(msgspec.Struct, frozen=True):
    name: str = ""
    key: str = ""


class _JiraStatus(msgspec.Struct, frozen=True):
    name: str = ""
    statusCategory: _JiraNamed | None = None


class _JiraFields(msgspec.Struct, frozen=True):
    summary: str
    description: str | dict[str, Any] | None = None
    labels: list[str] = []
    priority: _JiraNamed | None = None
    status: _JiraStatus | None = None
    project: _JiraNamed | None = None
    updated: str = ""


class _JiraIssue(msgspec.Struct, frozen=True):
    key: str
    fields: _JiraFields
    id: str | None = None
    self: str | None = None


class _JiraHook(msgspec.Struct, frozen=True):
    webhookEvent: str
    issue: _JiraIssue | None = None
    timestamp: int | None = None


_JIRA_PRIORITY = {
    "highest": "critical",
    "blocker": "critical",
    "high": "high",
    "medium": "medium",
    "low": "low",
    "lowest": "low",
}


def adf_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format tree (Jira Cloud's rich description), bounded."""
    parts: list[str] = []
    stack = [node]
    seen = 0
    while stack and seen < MAX_ADF_NODES:
        current = stack.pop()
        seen += 1
        if isinstance(current, dict):
            if isinstance(current.get("text"), str):
                parts.append(current["text"])
            if current.get("type") in ("paragraph", "heading", "hardBreak", "codeBlock"):
                parts.append("\n")
            children = current.get("content")
            if isinstance(children, list):
                stack.extend(reversed(children))
        elif isinstance(current, list):
            stack.extend(reversed(current))
    return "".join(parts).strip()


def parse_jira(raw: bytes, delivery: str | None, rules: MappingRules) -> Parsed:
    """jira:issue_created / jira:issue_updated are tickets unless the issue is done."""
    try:
        hook = _decode(raw, _JiraHook)
    except _DECODE_ERRORS as exc:
        return _invalid(exc, raw)
    if hook.webhookEvent not in ("jira:issue_created", "jira:issue_updated") or hook.issue is None:
        return Ignored(f"Jira {hook.webhookEvent} events are not tickets")
    fields = hook.issue.fields
    labels = clean_labels(fields.labels)
    description = fields.description if isinstance(fields.description, str) else adf_text(fields.description or {})
    priority = _JIRA_PRIORITY.get((fields.priority.name if fields.priority else "").lower())
    ticket = Ticket(
        source="jira",
        external_id=hook.issue.key,
        title=fields.summary.strip() or "(untitled)",
        description=description,
        risk_tier=risk_from_labels(labels, rules.risk_labels) or priority or rules.default_risk_tier,  # type: ignore[arg-type]
        labels=labels,
        url=hook.issue.self,
        ghost_hint=ghost_hint(labels),
        state=fields.status.name if fields.status else None,
        provider_id=hook.issue.id,
    )
    category = fields.status.statusCategory.key if fields.status and fields.status.statusCategory else ""
    key = f"jira:{hook.issue.key}:{hook.webhookEvent}:{fields.updated or hook.timestamp}"
    return Candidate(ticket, category != "done", key, delivery)


# --- Generic envelope ---------------------------------------------------------------------


def parse_generic(raw: bytes, delivery: str | None, limits: IntakeLimits) -> Parsed:
    """The original product's envelope `{title, description, repo, risk_tier, labels}` (+ id, url, callback_url)."""
    body_hash = hashlib.sha256(raw).hexdigest()
    result = validate_submission(raw, limits, source="webhook", fallback_id=(delivery or body_hash[:16])[:64])
    if isinstance(result, list):
        return Invalid("; ".join(result))
    return Candidate(result, True, f"webhook:{result.external_id}:{body_hash}", delivery)
