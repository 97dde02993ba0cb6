"""Generate the checked-in JSON Schema files from the Structs (`sparks schemas`)."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from schemas.events import EVENT_TYPES, subject_of
from schemas.submission import SUBMIT_SUBJECT, Submission

SCHEMA_DIR = Path(__file__).parent / "json"


def rendered_schemas() -> dict[str, str]:
    """File name -> JSON text for every event type and the submit envelope."""
    documents: dict[str, object] = {f"{subject_of(t)}.schema.json": msgspec.json.schema(t) for t in EVENT_TYPES}
    documents[f"{SUBMIT_SUBJECT}.schema.json"] = msgspec.json.schema(Submission)
    return {name: json.dumps(doc, indent=2, sort_keys=True) + "\n" for name, doc in documents.items()}


def drifted(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files that are missing, stale or unexpected in `directory`."""
    expected = rendered_schemas()
    present = {p.name for p in directory.glob("*.schema.json")} if directory.is_dir() else set()
    stale = [n for n, text in expected.items() if not (directory / n).is_file() or (directory / n).read_text() != text]
    return sorted(stale + [n for n in present - expected.keys()])


def write_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Rewrite the schema files; returns the names written."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = rendered_schemas()
    for stray in {p.name for p in directory.glob("*.schema.json")} - expected.keys():
        (directory / stray).unlink()
    for name, text in expected.items():
        (directory / name).write_text(text)
    return sorted(expected)
