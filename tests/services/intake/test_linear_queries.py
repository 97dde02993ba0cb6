"""Every GraphQL document the project sends validates against Linear's real schema."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from fake_linear import REFERENCE_SCHEMA_PATH, SCHEMA_PATH, linear_schema
from services.intake import linear_queries as intake_queries
from services.writeback import linear_queries as writeback_queries

DOCUMENTS = {
    f"{module.__name__}.{name}": value
    for module in (intake_queries, writeback_queries)
    for name, value in vars(module).items()
    if name.isupper() and isinstance(value, str) and ("query " in value or "mutation " in value)
}


def test_the_schema_is_there() -> None:
    assert SCHEMA_PATH.is_file(), f"Linear's schema is expected at {SCHEMA_PATH}"


@pytest.mark.skipif(not REFERENCE_SCHEMA_PATH.is_file(), reason="no ../shared reference copy beside this clone")
def test_the_kept_schema_is_the_reference_schema() -> None:
    assert SCHEMA_PATH.read_bytes() == REFERENCE_SCHEMA_PATH.read_bytes()


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_validates_against_linears_schema(name: str) -> None:
    errors = validate(linear_schema(), parse(DOCUMENTS[name]))
    assert errors == [], [e.message for e in errors]


def test_an_invalid_document_is_caught_by_the_same_check() -> None:
    errors = validate(linear_schema(), parse("query { issues { nodes { notAField } } }"))
    assert errors
