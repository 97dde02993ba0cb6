"""Bad `ticket.submit` input on the real broker: one ticket.rejected each, and intake keeps going."""

from __future__ import annotations

import json

import pytest

from pipeline_helpers import count, running, wait_for
from schemas import TicketRejected
from services.runtime.bus import Bus
from services.runtime.config import Config

BAD_INPUTS: dict[str, tuple[bytes, str]] = {
    "non_json": (b"this is not json", "body: not valid JSON"),
    "missing_title": (b'{"description": "no title here"}', "title: required field is missing"),
    "wrong_type": (b'{"title": "x", "labels": "bug"}', 'labels: expected a list, got "bug"'),
    "huge_description": (
        json.dumps({"title": "big", "description": "a" * (5 * 1024 * 1024)}).encode(),
        "description: 5242880 characters, the limit is 65536",
    ),
    "unknown_field": (b'{"title": "x", "priority": 1}', "priority: unknown field; the envelope allows title"),
    "not_an_object": (b'["title"]', "body: expected a JSON object"),
    "invalid_utf8": (b'{"title": "\xff\xfe"}', "body: not valid JSON"),
    "empty_title": (b'{"title": "   "}', "title: must not be empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
async def test_bad_submission_becomes_one_rejection_with_a_reason(bus: Bus, config: Config, case: str) -> None:
    raw, reason = BAD_INPUTS[case]
    async with running(config, ["intake"]):
        await bus.nc.publish("ticket.submit", raw)
        await bus.nc.publish("ticket.submit", b'{"title": "a good ticket after the bad one"}')
        seen = await wait_for(bus, lambda ev: count(ev, "ticket.received") == 1 and count(ev, "ticket.rejected") == 1)

    rejected = next(e for s, e in seen if isinstance(e, TicketRejected))
    assert reason in rejected.reason
    assert rejected.size_bytes == len(raw)
    assert len(rejected.excerpt) <= 200, "the rejection must not copy a huge body into the log"
    assert rejected.causation_id == "ticket.submit#1"
