"""`make user-flow` itself: fake Linear + `sparks up` + a signed webhook -> In Progress, Done, one comment."""

from __future__ import annotations

import importlib.util
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "user_flow.py"


async def test_user_flow_reaches_done_with_one_comment() -> None:
    spec = importlib.util.spec_from_file_location("user_flow", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert await module.main(timeout=60.0) == 0
