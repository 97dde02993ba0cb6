"""Provider parsers and signature checks are total: any bytes give Candidate, Ignored or Invalid."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import webhook_payloads as payloads
from services.intake.candidate import Candidate, Ignored, Invalid, MappingRules
from services.intake.linear_issue import LinearFilters
from services.intake.provider_payloads import (
    adf_text,
    parse_generic,
    parse_github,
    parse_gitlab,
    parse_jira,
    parse_linear,
)
from services.intake.rate_limiter import TokenBucket
from services.intake.revision_policy import TicketRecord, decide
from services.intake.submission_validator import IntakeLimits
from services.intake.ticket_mapping import risk_from_labels
from services.intake.webhook_signatures import signature_matches, token_matches
from services.runtime.secrets import Secret

RULES = MappingRules()
PARSERS = [
    lambda raw: parse_linear(raw, "d", LinearFilters(), RULES),
    lambda raw: parse_github(raw, "issues", "d", RULES),
    lambda raw: parse_gitlab(raw, "d", RULES),
    lambda raw: parse_jira(raw, "d", RULES),
    lambda raw: parse_generic(raw, "d", IntakeLimits()),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "action",
                    "type",
                    "data",
                    "issue",
                    "title",
                    "id",
                    "fields",
                    "object_kind",
                    "object_attributes",
                    "webhookEvent",
                    "webhookTimestamp",
                    "repository",
                    "labels",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1024) | json_values.map(lambda v: json.dumps(v).encode()))
def test_every_parser_is_total(raw: bytes) -> None:
    for parse in PARSERS:
        assert isinstance(parse(raw), Candidate | Ignored | Invalid)


def test_deep_nesting_and_invalid_utf8_are_invalid_not_crashes() -> None:
    for raw in (b'{"issue": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", b'{"title": "\xff"}'):
        for parse in PARSERS:
            assert isinstance(parse(raw), Ignored | Invalid)


def test_linear_filters_decide_activity() -> None:
    body, _ = payloads.linear(payloads.linear_issue_data(state="Done"))
    parsed = parse_linear(body, "d", LinearFilters(status_filter=["Todo"]), RULES)
    assert isinstance(parsed, Candidate)
    assert not parsed.active
    body, _ = payloads.linear()
    wrong_assignee = parse_linear(body, "d", LinearFilters(assignee_filter=["someone-else"]), RULES)
    assert isinstance(wrong_assignee, Candidate)
    assert not wrong_assignee.active
    right = parse_linear(body, "d", LinearFilters(assignee_filter=["bot-user"], label_filter=["BUG"]), RULES)
    assert isinstance(right, Candidate)
    assert right.active


def test_linear_content_key_ignores_the_webhook_id() -> None:
    first, _ = payloads.linear()
    parsed = parse_linear(first, "delivery-1", LinearFilters(), RULES)
    assert isinstance(parsed, Candidate)
    assert parsed.content_key == "linear:Issue:issue-7:create:2026-11-24T06:00:00.000Z"
    assert "same-on-every-delivery" not in parsed.content_key


def test_risk_labels_match_exactly() -> None:
    assert risk_from_labels(["highlight"], RULES.risk_labels) is None
    assert risk_from_labels(["High"], RULES.risk_labels) == "high"
    assert risk_from_labels(["low", "critical"], RULES.risk_labels) == "critical"


def test_adf_is_flattened_and_bounded() -> None:
    doc = {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}] * 20_000}
    assert len(adf_text(doc)) < 20_000


def test_signatures_are_checked_against_every_rotation_secret() -> None:
    body = b"{}"
    old, new = Secret("old-secret"), Secret("new-secret")
    sig = payloads.sign(body, "old-secret")
    assert signature_matches(sig, body, [new, old])
    assert not signature_matches(sig, body, [new])
    assert not signature_matches(sig, body, [])
    assert not signature_matches("sha256=" + sig, body, [old])  # prefix only where the provider uses one
    assert signature_matches("sha256=" + sig, body, [old], "sha256=")
    assert not signature_matches("ünïcode", body, [old])
    assert token_matches("new-secret", [old, new])
    assert not token_matches("", [old])


def test_token_bucket_refills_over_time() -> None:
    bucket = TokenBucket(60)
    assert all(bucket.take("a", 0.0) == 0 for _ in range(60))
    assert bucket.take("a", 0.0) > 0
    assert bucket.take("b", 0.0) == 0  # per source
    assert bucket.take("a", 2.0) == 0


def test_revision_policy_cases() -> None:
    from schemas import Ticket

    t = Ticket(source="linear", external_id="ENG-1", title="t")
    first = decide(None, t, active=True)
    assert (first.publish, first.revision) == (True, 1)
    assert not decide(first.record, t, active=True).publish
    gone = decide(first.record, t, active=False)
    assert gone.record == TicketRecord(fingerprint=first.record.fingerprint, revision=1, active=False)
    back = decide(gone.record, t, active=True)
    assert (back.publish, back.revision, back.reason) == (True, 2, "reopened")
    never_active = decide(None, t, active=False)
    assert not never_active.publish
    assert decide(never_active.record, t, active=True).revision == 1
