"""kill -9 each service in turn mid-flow and start it again: every ticket completes once and is
written back once. The services run as real processes (`sparks run`), as users deploy them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fault_checks import assert_each_exactly_once, settled
from services.runtime.bus import Bus
from services.runtime.config import Config

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "scanner", "dispatcher", "writeback")

pytestmark = pytest.mark.fault


def _toml(config: Config, tmp_path: Path) -> Path:
    path = tmp_path / "sparks.toml"
    # The dry-run ghost is safe to run again, so a run cut off by the kill is retried, not failed:
    # every ticket must then end as dry_run, none lost to "stopped mid-run".
    path.write_text(
        f'[nats]\nurl = "{config.nats.url}"\nack_wait_secs = 2\nmax_deliver = 20\nbackoff_secs = [0.2, 0.5]\n'
        f'[dispatcher]\ndefault_ghost = "dry-run"\nabandoned = "retry"\nmax_attempts = 10\n'
        f'work_dir = "{tmp_path / "work"}"\n'
    )
    return path


class Fleet:
    """One OS process per service; kill -9 and restart any of them."""

    def __init__(self, toml: Path, logs: Path) -> None:
        self._toml = toml
        self._logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.kills = 0

    def start(self, name: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("NATS_URL", None)
        with (self._logs / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "services.runtime.cli", "--config", str(self._toml), "run", name],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        assert proc.poll() is None, f"{name} had already exited with {proc.returncode}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.kills += 1

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            proc.wait(30)


@contextmanager
def fleet(toml: Path, logs: Path) -> Iterator[Fleet]:
    running = Fleet(toml, logs)
    for name in SERVICES:
        running.start(name)
    try:
        yield running
    finally:
        running.stop_all()


async def test_each_service_killed_mid_flow_and_restarted_loses_and_doubles_nothing(
    bus: Bus, config: Config, tmp_path: Path, soak: bool
) -> None:
    tickets = 2000 if soak else 120
    rounds = 5 if soak else 1
    rate = 100.0 if soak else 30.0  # tickets/s: slow enough that every kill lands mid-flow
    ids = [f"KILL-{n}" for n in range(tickets)]

    async def submit() -> None:
        for n, ticket_id in enumerate(ids):
            body = {"title": f"fault ticket {n}", "description": "killed services must not lose me", "id": ticket_id}
            await bus.js.publish("ticket.submit", json.dumps(body).encode())
            await asyncio.sleep(1 / rate)

    with fleet(_toml(config, tmp_path), tmp_path) as services:
        await asyncio.sleep(1.5)  # let them connect and declare their consumers
        feeding = asyncio.create_task(submit())
        interval = (tickets / rate) / (rounds * len(SERVICES) + 1)
        for _ in range(rounds):
            for name in SERVICES:
                await asyncio.sleep(interval)
                services.kill(name)
                await asyncio.sleep(0.3)
                services.start(name)
        await feeding
        seen = await settled(bus, tickets, timeout=600 if soak else 90)
    assert services.kills == rounds * len(SERVICES)
    await assert_each_exactly_once(bus, seen, [f"manual:{t}" for t in ids])
    outcomes = {e.outcome for s, e in seen if s == "task.completed"}  # type: ignore[union-attr]
    assert outcomes == {"dry_run"}, f"a killed run must be retried, not failed: {outcomes}"
