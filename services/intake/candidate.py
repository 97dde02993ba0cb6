"""What a source parser hands to admission: a ticket plus the keys that make redeliveries harmless."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from schemas import RiskTier, Ticket
from services.intake.ticket_mapping import DEFAULT_RISK_LABELS


@dataclass(frozen=True, slots=True)
class Candidate:
    """A parsed ticket. `active` = it matches the filters now; keys identify this exact change."""

    ticket: Ticket
    active: bool
    content_key: str
    delivery_key: str | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """A valid delivery that is not a ticket (a comment event, a ping): acknowledged, nothing published."""

    reason: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """A body that cannot be understood; `problem` names what is wrong."""

    problem: str


Parsed = Candidate | Ignored | Invalid


@dataclass(frozen=True, slots=True)
class MappingRules:
    """How provider facts become risk tiers."""

    default_risk_tier: RiskTier = "medium"
    risk_labels: Mapping[RiskTier, list[str]] = field(default_factory=lambda: dict(DEFAULT_RISK_LABELS))
