"""The event contract: checked-in JSON Schema matches the Structs; old payloads still decode; tags are stable."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas import EVENT_TYPES, subject_of
from schemas.json_schema import SCHEMA_DIR, drifted, rendered_schemas, write_schemas
from services.runtime.event_mapper import MAPPER, derived_event_id

GOLDEN = Path(__file__).parent / "golden"


def test_checked_in_schemas_match_the_structs() -> None:
    assert drifted() == [], "run `sparks schemas` and commit the result"


def test_drift_is_detected(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    assert drifted(tmp_path) == []
    (tmp_path / "ticket.received.schema.json").write_text("{}")
    (tmp_path / "old.schema.json").write_text("{}")
    assert drifted(tmp_path) == ["old.schema.json", "ticket.received.schema.json"]


def test_tags_are_the_design_subjects() -> None:
    assert [subject_of(t) for t in EVENT_TYPES] == [
        "ticket.received",
        "ticket.rejected",
        "ticket.scanned",
        "task.held",
        "task.approved",
        "task.denied",
        "task.started",
        "task.completed",
        "ticket.written_back",
        "ticket.progress_written",
    ]
    assert set(rendered_schemas()) == {p.name for p in SCHEMA_DIR.glob("*.schema.json")}


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_version_1_golden_payloads_still_decode_and_round_trip(path: Path) -> None:
    event = MAPPER.decode(path.read_bytes())
    assert MAPPER.decode(MAPPER.encode(event)) == event
    message = MAPPER.to_message(event)
    assert message.subject == path.stem.split("@")[0]
    assert message.headers == {"Nats-Msg-Id": event.event_id}


def test_derived_ids_are_deterministic_and_stage_specific() -> None:
    assert derived_event_id("a", "scanner") == derived_event_id("a", "scanner")
    assert derived_event_id("a", "scanner") != derived_event_id("a", "dispatcher")
