"""Pure core: scan a ticket's text and decide allow / flag / block, with the reasons."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from schemas import Finding, ScanDecision, Ticket
from services.scanner.rules import RULES, Rule
from services.scanner.text_normaliser import fold, normalise

# Text a reader cannot see counts more: nobody hides an honest request.
HIDDEN_WEIGHT = 1.5
# A quotation in a ticket that discusses the topic (a scanner feature, a bug report quoting a
# command) counts a quarter: "Add detection for 'ignore previous instructions'" is not an attack.
QUOTED_WEIGHT = 0.2
SCORE_SCALE = 10.0
MAX_SCANNED_CHARS = 1_000_000
# Quotes, code spans, block quotes, and indented lines (markdown code, stack traces).
_QUOTED = re.compile(
    r"`[^`\n]{1,500}`|\"[^\"\n]{1,500}\"|“[^”\n]{1,500}”|'[^'\n]{1,300}'|^>[^\n]{0,500}$|^(?: {4}|\t)[^\n]{0,500}$",
    re.MULTILINE,
)
_DISCUSSION = re.compile(
    r"\b(?:detect\w*|scanner|scan\w*|filter\w*|saniti[sz]\w*|classif\w*|prompt injection|injection|jailbreak|example|test ?cases?"
    r"|regex|payload|red[ -]?team\w*|security|vulnerab\w*|reproduce|error|errors|traceback|exception|fails?|failed|failing|install\w*"
    r"|tests?|guard|refus\w*|eval\w*|classifier|attack\w*|mitigat\w*|protect\w*"
    r"|crash\w*|stack ?trace|logs?|warning|bug|documentation|docs|tutorial)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ScanPolicy:
    """`[prompt_scanner]` as the core needs it."""

    enabled: bool = True
    mode: str = "block"
    flag_threshold: float = 0.3
    block_threshold: float = 0.6
    max_findings: int = 20
    max_span_chars: int = 200
    allow_ticket_ids: frozenset[str] = frozenset()
    allow_repos: frozenset[str] = frozenset()
    allow_providers: frozenset[str] = frozenset()
    allow_authors: frozenset[str] = frozenset()
    allow_text_patterns: tuple[re.Pattern[str], ...] = ()
    downgrade_block_to_flag: bool = True
    mode_overrides: tuple[tuple[str | None, str | None, str], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The decision, the score in [0, 1], the findings, and a note when a policy changed the decision."""

    decision: ScanDecision
    score: float
    findings: tuple[Finding, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class _Hit:
    finding: Finding
    weight: float


def _span(rule: Rule, text: str, limit: int) -> str:
    return text[:4] + "…[redacted]" if rule.redact else text[:limit]


def _quoted_ranges(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _QUOTED.finditer(text)]


def _inside(ranges: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in ranges)


_NEGATION = re.compile(r"(?:\bnot|n't|\bnever|\bno)\s+$", re.IGNORECASE)


def _negated(text: str, start: int) -> bool:
    # "Please don't reveal secrets in this issue" asks for the opposite of an attack.
    return _NEGATION.search(text[max(0, start - 10) : start]) is not None


def _discussed(text: str) -> bool:
    return _DISCUSSION.search(text) is not None


def _any_in(needles: tuple[str, ...], haystack: str) -> bool:
    # A plain loop: this runs ~200 times per ticket, and a generator under any() costs twice as much.
    for needle in needles:  # noqa: SIM110
        if needle in haystack:
            return True
    return False


def _hits(text: str, *, form: str, discussed: bool | None, limit: int) -> list[_Hit]:
    hits = []
    lowered = text.lower()
    for rule in RULES:
        if rule.triggers and not _any_in(rule.triggers, lowered):
            continue
        m = rule.pattern.search(text)
        if m is None or _negated(text, m.start()):
            continue
        hidden = form not in ("", "code")
        weight = HIDDEN_WEIGHT if hidden else 1.0
        in_quote = form == "code" or (form == "" and _inside(_quoted_ranges(text), m.start(), m.end()))
        if rule.quotable and not hidden and in_quote and (discussed if discussed is not None else _discussed(text)):
            weight = QUOTED_WEIGHT
        finding = Finding(
            rule_id=rule.rule_id,
            risk_class=rule.risk_class,
            severity=rule.severity,
            span=_span(rule, m.group(0), limit),
            hidden=hidden,
            form=form if hidden else "",
        )
        hits.append(_Hit(finding, weight))
    return hits


def scan_text(text: str, policy: ScanPolicy) -> ScanResult:
    """Score `text` (each rule counts once, at its heaviest) and decide by the thresholds and mode."""
    if not policy.enabled:
        return ScanResult("allow", 0.0, ())
    normalised = normalise(text[:MAX_SCANNED_CHARS])
    limit = policy.max_span_chars
    # `discussed` is looked up only when a quoted finding needs it: it is the costliest pattern here.
    hits = _hits(normalised.visible, form="", discussed=None, limit=limit)
    discussed = _discussed(normalised.visible) if normalised.code else False
    for block in normalised.code:
        hits += _hits(block, form="code", discussed=discussed, limit=limit)
    for part in normalised.hidden:
        hits += _hits(fold(part.text), form=part.form, discussed=False, limit=limit)
    best: dict[str, _Hit] = {}
    for hit in hits:
        kept = best.get(hit.finding.rule_id)
        if kept is None or hit.weight > kept.weight:
            best[hit.finding.rule_id] = hit
    ranked = sorted(best.values(), key=lambda h: (-h.finding.severity * h.weight, h.finding.rule_id))
    score = round(min(sum(h.finding.severity * h.weight for h in ranked) / SCORE_SCALE, 1.0), 3)
    decision: ScanDecision = "allow"
    if score >= policy.block_threshold:
        decision = "block"
    elif score >= policy.flag_threshold:
        decision = "flag"
    findings = tuple(h.finding for h in ranked[: policy.max_findings])
    if decision == "block" and policy.mode != "block":
        return ScanResult("flag", score, findings, "flag_only mode")
    return ScanResult(decision, score, findings)


def _mode_for(ticket: Ticket, policy: ScanPolicy) -> str:
    for provider, repo, mode in policy.mode_overrides:
        if (provider is None or provider == ticket.source) and (repo is None or repo == ticket.repo):
            return mode
    return policy.mode


def _allowlisted(ticket: Ticket, policy: ScanPolicy, result: ScanResult, visible: str) -> str:
    if ticket.ticket_id in policy.allow_ticket_ids:
        return "ticket id"
    if ticket.repo and ticket.repo in policy.allow_repos:
        return "repo"
    if ticket.source in policy.allow_providers:
        return "provider"
    if ticket.author and ticket.author in policy.allow_authors:
        return "author"
    # A text pattern may only vouch for what a reader can see: never for hidden findings.
    no_hidden = not any(f.hidden for f in result.findings)
    if no_hidden and any(p.search(visible) for p in policy.allow_text_patterns):
        return "text pattern"
    return ""


def scan_ticket(ticket: Ticket, policy: ScanPolicy) -> ScanResult:
    """Scan title and description as the ghost would read them; apply mode overrides and the allowlist."""
    text = f"{ticket.title}\n{ticket.description}"
    mode = _mode_for(ticket, policy)
    result = scan_text(text, policy if mode == policy.mode else _with_mode(policy, mode))
    if result.decision == "block" and policy.downgrade_block_to_flag:
        reason = _allowlisted(ticket, policy, result, normalise(text[:MAX_SCANNED_CHARS]).visible)
        if reason:
            # Allowlisted work is still flagged, never silently allowed: the ghost hears about it.
            return ScanResult(
                "flag", result.score, result.findings, f"block downgraded to flag by allowlisted {reason}"
            )
    return result


def _with_mode(policy: ScanPolicy, mode: str) -> ScanPolicy:
    return replace(policy, mode=mode)
