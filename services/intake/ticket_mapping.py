"""Pure core: provider facts (labels, priority) mapped into a ticket's risk tier and ghost hint."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from schemas import RiskTier

RISK_TIERS: tuple[RiskTier, ...] = ("low", "medium", "high", "critical")
DEFAULT_RISK_LABELS: Mapping[RiskTier, list[str]] = {tier: [tier, f"risk:{tier}"] for tier in RISK_TIERS}
_GHOST_LABEL = re.compile(r"sparks:([a-z0-9][a-z0-9_\-]{0,63})", re.IGNORECASE)
# Linear's priority: 0 none, 1 urgent, 2 high, 3 medium (normal), 4 low.
_LINEAR_PRIORITY: Mapping[int, RiskTier] = {1: "critical", 2: "high", 3: "medium", 4: "low"}


def risk_from_labels(labels: Iterable[str], risk_labels: Mapping[RiskTier, list[str]]) -> RiskTier | None:
    """The highest tier whose configured names include a label exactly (case-insensitive)."""
    names = {label.strip().lower() for label in labels}
    found = [tier for tier in RISK_TIERS if names & {n.lower() for n in risk_labels.get(tier, [])}]
    return found[-1] if found else None


def risk_from_linear_priority(priority: int | None) -> RiskTier | None:
    """Linear's urgent/high/medium/low priorities as risk tiers; no priority says nothing."""
    return _LINEAR_PRIORITY.get(priority) if priority is not None else None


def ghost_hint(labels: Iterable[str]) -> str | None:
    """The ghost named by a `sparks:<ghost>` label, if any."""
    for label in labels:
        if m := _GHOST_LABEL.fullmatch(label.strip()):
            return m.group(1).lower()
    return None


def clean_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """Stripped, non-empty, first occurrence kept."""
    return tuple(dict.fromkeys(label.strip() for label in labels if label.strip()))
