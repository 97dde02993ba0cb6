"""The intake core: normalisation, and that no input at all can make it raise."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import TicketReceived, TicketRejected
from services.intake.submission_validator import IntakeLimits, admit_submission

AT = datetime(2026, 1, 1, tzinfo=UTC)


DEFAULT_LIMITS = IntakeLimits()


def admit(raw: bytes, limits: IntakeLimits = DEFAULT_LIMITS) -> TicketReceived | TicketRejected:
    return admit_submission(raw, message_ref="ticket.submit#9", fallback_id="9", received_at=AT, limits=limits)


def test_risk_tier_comes_from_exact_label_names_not_substrings() -> None:
    assert isinstance(e := admit(b'{"title": "t", "labels": ["highlight"]}'), TicketReceived)
    assert e.ticket.risk_tier == "medium"
    assert isinstance(e := admit(b'{"title": "t", "labels": ["risk:high"]}'), TicketReceived)
    assert e.ticket.risk_tier == "high"


def test_explicit_risk_tier_wins_over_labels() -> None:
    assert isinstance(e := admit(b'{"title": "t", "risk_tier": "low", "labels": ["critical"]}'), TicketReceived)
    assert e.ticket.risk_tier == "low"


def test_ghost_label_becomes_the_hint() -> None:
    assert isinstance(e := admit(b'{"title": "t", "labels": ["bug", "sparks:Coder"]}'), TicketReceived)
    assert e.ticket.ghost_hint == "coder"


def test_given_id_names_the_ticket_and_event_ids_are_deterministic() -> None:
    first, second = admit(b'{"title": "t", "id": "T-1"}'), admit(b'{"title": "t", "id": "T-1"}')
    assert first.ticket_id == "manual:T-1"
    assert first.event_id == second.event_id


def test_control_characters_are_stripped_from_text() -> None:
    assert isinstance(e := admit(json.dumps({"title": "fix\x1b[31m it\x07"}).encode()), TicketReceived)
    assert e.ticket.title == "fix[31m it"


def test_callback_url_must_be_http() -> None:
    e = admit(b'{"title": "t", "callback_url": "file:///etc/passwd"}')
    assert isinstance(e, TicketRejected)
    assert "callback_url" in e.reason


def test_several_problems_are_all_named() -> None:
    e = admit(json.dumps({"title": "", "id": "../../etc", "repo": "a b"}).encode())
    assert isinstance(e, TicketRejected)
    assert {p.split(":")[0] for p in e.problems} == {"title", "id", "repo"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
envelope_like = st.fixed_dictionaries(
    {"title": json_values},
    optional={"description": json_values, "labels": json_values, "repo": json_values, "risk_tier": json_values},
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert isinstance(admit(raw), TicketReceived | TicketRejected)


@settings(max_examples=300, deadline=None)
@given(envelope_like)
def test_envelope_shaped_values_of_any_type_never_raise(doc: dict[str, object]) -> None:
    event = admit(json.dumps(doc).encode())
    if isinstance(event, TicketRejected):
        assert event.reason
        assert event.problems
    else:
        assert event.ticket.title.strip()


def test_deeply_nested_json_is_rejected_not_a_crash() -> None:
    assert isinstance(admit(b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), TicketRejected)
