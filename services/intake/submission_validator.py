"""Pure core: a raw `ticket.submit` envelope becomes `TicketReceived` or `TicketRejected` with a reason."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from schemas import RiskTier, Submission, Ticket, TicketReceived, TicketRejected
from services.intake.ticket_mapping import DEFAULT_RISK_LABELS, clean_labels, ghost_hint, risk_from_labels
from services.runtime.event_mapper import derived_event_id
from services.runtime.validation_messages import explain_validation_error

SOURCE = "manual"
STAGE = "intake"
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,127}")
_ALLOWED_FIELDS = ", ".join(Submission.__struct_fields__)
_DECODER = msgspec.json.Decoder(Submission)


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    """Size limits and defaults from `[ticket_intake]`."""

    max_title_chars: int = 512
    max_description_chars: int = 65_536
    max_labels: int = 50
    default_risk_tier: RiskTier = "medium"
    risk_labels: Mapping[RiskTier, list[str]] = field(default_factory=lambda: dict(DEFAULT_RISK_LABELS))


# Unicode category Cc is exactly these two ranges; newline and tab are kept.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean(text: str) -> str:
    # Control characters (other than newline and tab) have no place in a ticket and confuse terminals.
    return _CONTROL.sub("", text).strip()


def _problems(sub: Submission, limits: IntakeLimits) -> list[str]:
    problems: list[str] = []
    if not _clean(sub.title):
        problems.append('title: must not be empty; give a one-line summary such as "Fix the login bug"')
    if len(sub.title) > limits.max_title_chars:
        problems.append(
            f"title: {len(sub.title)} characters, the limit is {limits.max_title_chars}; "
            "put the detail in the description"
        )
    if len(sub.description) > limits.max_description_chars:
        problems.append(
            f"description: {len(sub.description)} characters, the limit is {limits.max_description_chars} "
            "(ticket_intake.max_description_chars); shorten it or link to the full text"
        )
    if len(sub.labels) > limits.max_labels:
        problems.append(f"labels: {len(sub.labels)} labels, the limit is {limits.max_labels}")
    if any(len(label) > 100 for label in sub.labels):
        problems.append("labels: each label must be at most 100 characters")
    if sub.id is not None and not _ID_PATTERN.fullmatch(sub.id):
        problems.append("id: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit")
    for key, url in (("url", sub.url), ("callback_url", sub.callback_url)):
        if url is not None and not re.fullmatch(r"https?://[^\s]{1,2000}", url):
            problems.append(f"{key}: must be an http:// or https:// URL")
    if sub.repo is not None and not re.fullmatch(r"[\w.\-]+(/[\w.\-]+)*", sub.repo):
        problems.append('repo: expected "owner/name"')
    return problems


def intake_event_id(message_ref: str, raw: bytes) -> str:
    """Same message redelivered -> same id; the body's hash keeps ids unique if a stream is ever recreated."""
    return derived_event_id(f"{message_ref}:{hashlib.sha256(raw).hexdigest()}", STAGE)


def _rejected(raw: bytes, message_ref: str, fallback_id: str, at: datetime, problems: list[str]) -> TicketRejected:
    excerpt = raw[:200].decode("utf-8", errors="replace")
    return TicketRejected(
        event_id=intake_event_id(message_ref, raw),
        ticket_id=f"{SOURCE}:{fallback_id}",
        occurred_at=at,
        causation_id=message_ref,
        source=SOURCE,
        reason="; ".join(problems),
        problems=tuple(problems),
        size_bytes=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        excerpt=excerpt,
    )


def validate_submission(raw: bytes, limits: IntakeLimits, *, source: str, fallback_id: str) -> Ticket | list[str]:
    """The normalised ticket, or every problem with the envelope; never raises on bad input."""
    try:
        sub = _DECODER.decode(raw)
    except msgspec.ValidationError as exc:
        hint = f"unknown field; the envelope allows {_ALLOWED_FIELDS}"
        try:
            parsed = msgspec.json.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            # Only used to quote the offending value; the problem is reported without it.
            parsed = None
        problem = explain_validation_error(exc, parsed, hint)
        if problem.startswith("(top level): expected a table"):
            problem = 'body: expected a JSON object such as {"title": "...", "description": "..."}'
        return [problem]
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # msgspec reports invalid UTF-8 inside a string as UnicodeDecodeError, not DecodeError.
        return [f'body: not valid JSON ({exc}); send an object such as {{"title": "...", "description": "..."}}']
    problems = _problems(sub, limits)
    if problems:
        return problems
    labels = clean_labels(sub.labels)
    return Ticket(
        source=source,
        external_id=sub.id
        or (fallback_id if _ID_PATTERN.fullmatch(fallback_id) else hashlib.sha256(raw).hexdigest()[:32]),
        title=_clean(sub.title),
        description=_clean(sub.description),
        repo=sub.repo,
        risk_tier=sub.risk_tier or risk_from_labels(labels, limits.risk_labels) or limits.default_risk_tier,
        labels=labels,
        url=sub.url,
        callback_url=sub.callback_url,
        author=sub.author,
        ghost_hint=ghost_hint(labels),
    )


def admit_submission(
    raw: bytes, *, message_ref: str, fallback_id: str, received_at: datetime, limits: IntakeLimits
) -> TicketReceived | TicketRejected:
    """Validate and normalise one manual `ticket.submit` envelope into the event intake publishes."""
    result = validate_submission(raw, limits, source=SOURCE, fallback_id=fallback_id)
    if isinstance(result, list):
        return _rejected(raw, message_ref, _given_id(raw) or fallback_id, received_at, result)
    return TicketReceived(
        event_id=intake_event_id(message_ref, raw),
        ticket_id=result.ticket_id,
        occurred_at=received_at,
        causation_id=message_ref,
        ticket=result,
    )


def _given_id(raw: bytes) -> str | None:
    # A rejected envelope still names its ticket by the id it gave, when that id is usable.
    try:
        given = msgspec.json.decode(raw, type=dict[str, object]).get("id")
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    return given if isinstance(given, str) and _ID_PATTERN.fullmatch(given) else None
