"""Turn msgspec validation errors into messages a person can act on: `key.path: expected X, got Y`."""

from __future__ import annotations

import re
from typing import Any

import msgspec

_TYPE_WORDS = {
    "float": "a number",
    "int": "an integer",
    "str": "a string",
    "bool": "true or false",
    "array": "a list",
    "object": "a table",
    "null": "nothing",
}
_EXPECTED = re.compile(r"Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`(?: - at `\$\.?(?P<path>[^`]*)`)?")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<field>[^`]+)`(?: - at `\$\.?(?P<path>[^`]*)`)?")
_MISSING = re.compile(r"Object missing required field `(?P<field>[^`]+)`(?: - at `\$\.?(?P<path>[^`]*)`)?")
_AT = re.compile(r"(?P<msg>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$")


def _value_at(raw: Any, path: str) -> Any:
    node = raw
    for part in re.findall(r"[^.\[\]]+", path):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _words(type_expr: str) -> str:
    kinds = [t.strip() for t in type_expr.split("|") if t.strip() != "null"]
    return " or ".join(_TYPE_WORDS.get(t, t) for t in kinds)


def explain_validation_error(error: msgspec.ValidationError, raw: Any, unknown_hint: str = "unknown key") -> str:
    """Turn msgspec's message into `key.path: expected a number, got "high"`."""
    text = str(error)
    if m := _EXPECTED.match(text):
        path = m["path"] or "(top level)"
        got = _value_at(raw, m["path"] or "")
        shown = repr(got).replace("'", '"') if got is not None else m["got"]
        return f"{path}: expected {_words(m['want'])}, got {shown}"
    if m := _UNKNOWN.match(text):
        key = ".".join(p for p in (m["path"], m["field"]) if p)
        return f"{key}: {unknown_hint}"
    if m := _MISSING.match(text):
        key = ".".join(p for p in (m["path"], m["field"]) if p)
        return f"{key}: required field is missing"
    m = _AT.match(text)
    assert m is not None
    return f"{m['path'] or '(top level)'}: {m['msg'][0].lower() + m['msg'][1:]}"
