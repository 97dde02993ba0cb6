"""The task a ghost receives (JSON on stdin, in a file, or over HTTP/NATS): a contract with ghost authors."""

from __future__ import annotations

import msgspec

from schemas.events import Finding, Outcome, RiskTier, ScanDecision


class AutonomousTask(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a ghost needs; `goal` fences the ticket text as untrusted data."""

    task_id: str
    ticket_id: str
    ghost: str
    goal: str
    repo: str | None
    risk_tier: RiskTier
    title: str
    labels: tuple[str, ...] = ()
    url: str | None = None
    scan_decision: ScanDecision = "allow"
    findings: tuple[Finding, ...] = ()
    attempt: int = 1
    version: int = 1


class GhostResult(msgspec.Struct, frozen=True, kw_only=True):
    """The optional last line a ghost prints to refine its result."""

    outcome: Outcome | None = None
    summary: str | None = None
    pr_url: str | None = None
