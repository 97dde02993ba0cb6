"""The raw envelope people send to `ticket.submit` (and the generic webhook): input, not an event."""

from __future__ import annotations

import msgspec

from schemas.events import RiskTier

SUBMIT_SUBJECT = "ticket.submit"


class Submission(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`{"title", "description", "repo", "risk_tier", "labels"}` plus optional id, url, callback_url."""

    title: str
    description: str = ""
    repo: str | None = None
    risk_tier: RiskTier | None = None
    labels: list[str] = []
    id: str | None = None
    url: str | None = None
    callback_url: str | None = None
    author: str | None = None
