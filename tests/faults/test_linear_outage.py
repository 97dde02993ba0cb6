"""Linear answers 500s, stalls past the client timeout and RATELIMITED for a while, first while
intake polls and again while writeback reports: every issue still runs once and hears back once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest

from fake_linear import FakeLinear
from fault_checks import assert_each_exactly_once, settled
from pipeline_helpers import GHOSTS, count, events, running
from services.runtime.bus import Bus
from services.runtime.config import Config, DispatcherConfig, GhostConfig, LinearConfig, TicketIntakeConfig

pytestmark = pytest.mark.fault

OUTAGE_SECS = 3.0


def _config(config: Config, url: str, tmp_path: Path) -> Config:
    linear = LinearConfig(
        enabled=True,
        api_url=url,
        poll_interval_secs=0.5,
        status_filter=["Todo"],
        request_timeout_secs=1.0,
        max_retries=2,
    )
    # A ghost that succeeds, so each issue moves Todo -> In Progress -> Done and gets one comment.
    ok = GhostConfig(name="ok", executor="command", command=[str(GHOSTS / "record.sh"), str(tmp_path / "runs.log")])
    return msgspec.structs.replace(
        config,
        ticket_intake=TicketIntakeConfig(sources=["manual", "linear"], linear=linear),
        # Enough deliveries, spaced out, to outlast an outage rather than dead-letter into it.
        nats=msgspec.structs.replace(config.nats, max_deliver=10, backoff_secs=[0.5, 1.0, 2.0]),
        dispatcher=DispatcherConfig(default_ghost="ok", ghosts=[ok], work_dir=str(tmp_path / "work")),
    )


async def test_linear_outages_during_poll_and_writeback_lose_and_double_nothing(
    bus: Bus, config: Config, tmp_path: Path, linear: tuple[FakeLinear, str], soak: bool
) -> None:
    fake, url = linear
    issues = 300 if soak else 30
    # An OAuth app's hourly budget: polling 300 issues twice a second would spend an API key's 1,500
    # requests in two minutes, after which the client rightly waits for the window to reset.
    fake.window_limit = fake.window_remaining = 100_000
    for n in range(1, issues + 1):
        fake.add_issue(n, f"Outage issue {n}", labels=["bug"])
    fake.outage(OUTAGE_SECS, stall_secs=1.5)
    async with running(_config(config, url, tmp_path), ["intake", "scanner", "dispatcher", "writeback"]):
        # The second outage starts once reports are flowing, so writeback meets it too.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while count(await events(bus), "task.completed") == 0 and loop.time() < deadline:
            await asyncio.sleep(0.1)
        before_second = sum(fake.outage_answers.values())
        fake.outage(OUTAGE_SECS, stall_secs=1.5)
        seen = await settled(bus, issues, timeout=600 if soak else 100)
    assert sum(fake.outage_answers.values()) > before_second > 0, "both outages must have been met"
    assert set(fake.outage_answers) == {"500", "stall", "ratelimited", "502"}
    await assert_each_exactly_once(bus, seen, [f"linear:ENG-{n}" for n in range(1, issues + 1)])
    for n in range(1, issues + 1):
        assert len(fake.comments_on(f"ENG-{n}")) == 1, f"ENG-{n} got {len(fake.comments_on(f'ENG-{n}'))} comments"
        assert fake.state_history(f"ENG-{n}")[-1:] == ["Done"]
