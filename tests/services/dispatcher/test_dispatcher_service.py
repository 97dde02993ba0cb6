"""Failing, hanging and garbage-printing ghosts each end as task.completed and the pipeline goes on."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline_helpers import count, ghost, make_config, running, wait_for
from schemas import TaskCompleted, TaskStarted
from services.runtime.bus import Bus
from services.runtime.config import Config


async def test_each_ghost_failure_mode_completes_and_later_tickets_still_flow(
    bus: Bus, config: Config, tmp_path: Path
) -> None:
    ghosts = [
        ghost("ok", "succeed.py"),
        ghost("bad", "fail.py"),
        ghost("slow", "hang.py", str(tmp_path / "pid"), timeout=1.0),
        ghost("junk", "garbage.py"),
    ]
    cfg = make_config(config.nats.url or "", tmp_path, ghosts, default_ghost="ok")
    expected = {"slow": "timeout", "bad": "rollback", "junk": "failed", "ok": "success"}
    async with running(cfg, ["intake", "scanner", "dispatcher", "writeback"]):
        for name in expected:
            body = {"title": f"ticket for {name}", "id": name, "labels": [f"sparks:{name}"]}
            await bus.nc.publish("ticket.submit", json.dumps(body).encode())
        seen = await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == len(expected), timeout=30)

    outcomes = {e.ghost: e.outcome for s, e in seen if isinstance(e, TaskCompleted)}
    assert outcomes == expected
    reasons = {e.ghost: e.reason for s, e in seen if isinstance(e, TaskStarted)}
    assert reasons["bad"] == "label sparks:bad"
