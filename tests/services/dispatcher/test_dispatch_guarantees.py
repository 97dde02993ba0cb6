"""Exactly one run per ticket revision, limits, approval, pause/resume and the attempt cap, on a real broker."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from pipeline_helpers import GHOSTS, count, events, running, wait_for
from schemas import TaskCompleted, TaskHeld, TaskStarted, Ticket, TicketScanned
from services.dispatcher.claim_policy import Claim
from services.dispatcher.operator_commands import decide, set_paused
from services.dispatcher.task_builder import task_id_for
from services.dispatcher.task_claims import TaskClaims
from services.runtime.bus import Bus
from services.runtime.config import Config, GhostConfig

ROOT = Path(__file__).resolve().parents[3]


def recorder(name: str, ledger: Path, secs: float = 0.01, limit: int = 2) -> GhostConfig:
    return GhostConfig(
        name=name, command=[str(GHOSTS / "record.sh"), str(ledger), str(secs)], max_concurrency=limit, timeout_secs=30
    )


def scanned(n: int, *, risk: str = "medium", labels: tuple[str, ...] = ()) -> TicketScanned:
    ticket = Ticket(source="manual", external_id=f"T-{n}", title=f"Ticket {n}", risk_tier=risk, labels=labels)  # type: ignore[arg-type]
    return TicketScanned(
        event_id=f"scanned-{n}", ticket_id=ticket.ticket_id, occurred_at=datetime.now(UTC), causation_id=None,
        ticket=ticket, decision="allow", score=0.0,
    )  # fmt: skip


def with_dispatcher(config: Config, **changes: object) -> Config:
    return msgspec.structs.replace(config, dispatcher=msgspec.structs.replace(config.dispatcher, **changes))


def ledger_lines(path: Path) -> list[tuple[str, str, int]]:
    if not path.exists():
        return []
    return [(k, t, int(ns)) for k, t, ns in (line.split() for line in path.read_text().splitlines() if line.strip())]


def max_in_flight(lines: list[tuple[str, str, int]]) -> int:
    level = peak = 0
    for kind, _, _ in sorted(lines, key=lambda x: (x[2], x[0] == "start")):
        level += 1 if kind == "start" else -1
        peak = max(peak, level)
    return peak


async def test_per_ghost_limit_holds_under_a_burst_of_500(bus: Bus, config: Config, tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    cfg = with_dispatcher(
        config,
        ghosts=[recorder("alpha", a, limit=2), recorder("beta", b, limit=3)],
        default_ghost="alpha",
        max_concurrency=8,
    )
    for n in range(500):
        await bus.publish(scanned(n, labels=("sparks:beta",) if n % 2 else ()))
    async with running(cfg, ["dispatcher"]):
        await wait_for(bus, lambda ev: count(ev, "task.completed") == 500, timeout=90)
    assert max_in_flight(ledger_lines(a)) <= 2
    assert max_in_flight(ledger_lines(b)) <= 3
    ends = collections.Counter(t for k, t, _ in ledger_lines(a) + ledger_lines(b) if k == "end")
    assert len(ends) == 500
    assert set(ends.values()) == {1}


async def test_critical_ticket_waits_for_approval_then_runs(bus: Bus, config: Config) -> None:
    async with running(config, ["dispatcher"]):
        await bus.publish(scanned(1, risk="critical"))
        await wait_for(bus, lambda ev: count(ev, "task.held") == 1)
        await asyncio.sleep(0.5)
        assert count(await events(bus), "task.started") == 0
        assert await decide(bus, "manual:T-1", approve=True, by="alice") == "manual:T-1 approved by alice"
        assert "already decided" in await decide(bus, "manual:T-1", approve=True, by="alice")
        seen = await wait_for(bus, lambda ev: count(ev, "task.completed") == 1)
    held = next(e for _, e in seen if isinstance(e, TaskHeld))
    assert "sparks approve manual:T-1" in held.reason
    completed = next(e for _, e in seen if isinstance(e, TaskCompleted))
    assert completed.outcome == "dry_run"


async def test_denied_ticket_completes_as_rejected_without_running(bus: Bus, config: Config) -> None:
    async with running(config, ["dispatcher"]):
        await bus.publish(scanned(2, risk="critical"))
        await wait_for(bus, lambda ev: count(ev, "task.held") == 1)
        await decide(bus, "manual:T-2", approve=False, by="bob", reason="touches billing")
        seen = await wait_for(bus, lambda ev: count(ev, "task.completed") == 1)
    completed = next(e for _, e in seen if isinstance(e, TaskCompleted))
    assert completed.outcome == "rejected"
    assert completed.summary == "denied by bob: touches billing"
    assert count(seen, "task.started") == 0


async def test_pause_keeps_new_tasks_in_the_stream_until_resume(bus: Bus, config: Config) -> None:
    await set_paused(bus, True)
    async with running(config, ["dispatcher"]):
        await bus.publish(scanned(3))
        await asyncio.sleep(2.0)
        assert count(await events(bus), "task.started") == 0
        info = await bus.js.consumer_info(bus.stream, "dispatcher")
        assert info.num_pending == 1  # waiting in the stream, not fetched into memory
        await set_paused(bus, False)
        await wait_for(bus, lambda ev: count(ev, "task.completed") == 1)


async def _plant_claim(bus: Bus, task_id: str, attempt: int) -> None:
    claims = await TaskClaims.open(bus, owner="dead-dispatcher")
    await claims.write(
        task_id, Claim(attempt=attempt, state="running", owner="dead-dispatcher", heartbeat_at=0.0, ghost="dry-run"), 0
    )


async def test_abandoned_claim_fails_by_default_and_is_not_run_again(bus: Bus, config: Config) -> None:
    await _plant_claim(bus, task_id_for("manual:T-6", 1), attempt=1)
    async with running(config, ["dispatcher"]):
        await bus.publish(scanned(6))
        seen = await wait_for(bus, lambda ev: count(ev, "task.completed") == 1)
    completed = next(e for _, e in seen if isinstance(e, TaskCompleted))
    assert completed.outcome == "failed"
    assert "stopped mid-run" in completed.summary
    assert count(seen, "task.started") == 0


async def test_abandoned_claim_is_retried_as_the_next_attempt_when_configured(bus: Bus, config: Config) -> None:
    await _plant_claim(bus, task_id_for("manual:T-4", 1), attempt=1)
    async with running(with_dispatcher(config, abandoned="retry"), ["dispatcher"]):
        await bus.publish(scanned(4))
        seen = await wait_for(bus, lambda ev: count(ev, "task.completed") == 1)
    started = next(e for _, e in seen if isinstance(e, TaskStarted))
    assert started.attempt == 2
    assert "attempt 2 after the previous runner stopped" in started.reason


async def test_attempt_cap_survives_restarts_and_ends_the_task_as_failed(bus: Bus, config: Config) -> None:
    await _plant_claim(bus, task_id_for("manual:T-5", 1), attempt=config.dispatcher.max_attempts)
    async with running(with_dispatcher(config, abandoned="retry"), ["dispatcher"]):
        await bus.publish(scanned(5))
        seen = await wait_for(bus, lambda ev: count(ev, "task.completed") == 1)
    completed = next(e for _, e in seen if isinstance(e, TaskCompleted))
    assert completed.outcome == "failed"
    assert "gave up after 3 attempts" in completed.summary
    assert count(seen, "task.started") == 0


async def test_three_replicas_one_killed_mid_run_every_ticket_runs_exactly_once(
    bus: Bus, config: Config, tmp_path: Path
) -> None:
    ledger = tmp_path / "runs.log"
    toml = tmp_path / "sparks.toml"
    toml.write_text(
        f'[nats]\nurl = "{config.nats.url}"\nack_wait_secs = 2\nmax_deliver = 5\nbackoff_secs = [0.5, 1]\n'
        f'[dispatcher]\ndefault_ghost = "rec"\nmax_concurrency = 8\nwork_dir = "{tmp_path / "work"}"\n'
        f'[[dispatcher.ghosts]]\nname = "rec"\ncommand = ["{GHOSTS / "record.sh"}", "{ledger}", "0.3"]\nmax_concurrency = 8\n'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NATS_URL", None)
    replicas = [
        subprocess.Popen(
            [sys.executable, "-m", "services.runtime.cli", "--config", str(toml), "run", "dispatcher"],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(3)
    ]
    try:
        for n in range(200):
            await bus.publish(scanned(100 + n))
        deadline = time.monotonic() + 30
        while len([k for k, _, _ in ledger_lines(ledger) if k == "end"]) < 40 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        replicas[0].send_signal(signal.SIGKILL)
        seen = await wait_for(bus, lambda ev: count(ev, "task.completed") >= 200, timeout=90)
    finally:
        for proc in replicas:
            proc.terminate()
        for proc in replicas:
            proc.wait(15)
    completions = [e for _, e in seen if isinstance(e, TaskCompleted)]
    per_ticket = collections.Counter(e.ticket_id for e in completions)
    assert len(per_ticket) == 200
    assert set(per_ticket.values()) == {1}, "a ticket completed more than once"
    failed = [e for e in completions if e.outcome != "success"]
    assert failed, "killing a replica mid-run should have left tasks whose result is unknown"
    assert all(e.outcome == "failed" and "stopped mid-run" in e.summary for e in failed)
    starts = collections.Counter(t for k, t, _ in ledger_lines(ledger) if k == "start")
    assert set(starts.values()) == {1}, "a ghost was started twice for the same task"
