"""Writeback to Linear against the fake server: states, one comment, a person's move, rate limits, deletion."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from fake_linear import FakeLinear
from pipeline_helpers import count, running, wait_for
from schemas import TaskCompleted, TaskStarted, Ticket, TicketProgressWritten, TicketWrittenBack
from services.runtime.bus import Bus
from services.runtime.config import Config, LinearConfig, TicketIntakeConfig


def _config(config: Config, url: str) -> Config:
    return msgspec.structs.replace(
        config, ticket_intake=TicketIntakeConfig(linear=LinearConfig(api_url=url, max_retries=1))
    )


def _ticket(fake: FakeLinear, number: int) -> Ticket:
    issue = fake.add_issue(number, f"Issue {number}")
    return Ticket(
        source="linear",
        external_id=issue["identifier"],
        title=issue["title"],
        state="Todo",
        provider_id=issue["id"],
        team_id="team-1",
    )


def _started(ticket: Ticket) -> TaskStarted:
    return TaskStarted(
        event_id=f"started-{ticket.external_id}", ticket_id=ticket.ticket_id, occurred_at=datetime.now(UTC), causation_id="s",
        ticket=ticket, task_id=f"task-{ticket.external_id}", ghost="coder", reason="label sparks:coder",
    )  # fmt: skip


def _completed(ticket: Ticket, outcome: str = "success") -> TaskCompleted:
    return TaskCompleted(
        event_id=f"completed-{ticket.external_id}", ticket_id=ticket.ticket_id, occurred_at=datetime.now(UTC),
        causation_id=f"started-{ticket.external_id}", ticket=ticket, task_id=f"task-{ticket.external_id}", ghost="coder",
        outcome=outcome, summary="Fixed the redirect loop", pr_url="https://github.com/acme/app/pull/9", duration_ms=84_000,
    )  # type: ignore[arg-type]  # fmt: skip


async def test_success_moves_to_in_progress_then_done_with_one_comment(
    bus: Bus, config: Config, linear: tuple[FakeLinear, str]
) -> None:
    fake, url = linear
    ticket = _ticket(fake, 1)
    async with running(_config(config, url), ["writeback"]):
        await bus.publish(_started(ticket))
        await wait_for(bus, lambda ev: count(ev, "ticket.progress_written") == 1)
        await bus.publish(_completed(ticket))
        seen = await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 1)
    assert fake.state_history("ENG-1") == ["In Progress", "Done"]
    [body] = fake.comments_on("ENG-1")
    assert "Fixed the redirect loop" in body
    assert "Ghost: `coder`" in body
    assert "Duration: 84.0 s" in body
    assert "https://github.com/acme/app/pull/9" in body
    written = next(e for _, e in seen if isinstance(e, TicketWrittenBack))
    assert (written.target, written.status) == ("linear", "done")
    progress = next(e for _, e in seen if isinstance(e, TicketProgressWritten))
    assert progress.detail == "moved from Todo to In Progress"


async def test_failure_between_comment_and_state_change_still_ends_with_one_comment(
    bus: Bus, config: Config, linear: tuple[FakeLinear, str]
) -> None:
    fake, url = linear
    ticket = _ticket(fake, 2)
    fake.touch("issue-2", state="In Progress")
    # The issue query and the comment go through; then every state change fails until our retries
    # run out, as if writeback died between the comment and the state change. The message is
    # redelivered, the comment (same client id) is found, and the state change completes.
    fake.fail_when("issueUpdate", 500, 500)
    async with running(_config(config, url), ["writeback"]):
        await bus.publish(_completed(ticket))
        seen = await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 1, timeout=30)
    assert len(fake.comments_on("ENG-2")) == 1
    assert fake.issues["issue-2"]["state"]["name"] == "Done"
    written = next(e for _, e in seen if isinstance(e, TicketWrittenBack))
    assert (written.status, written.detail) == ("done", "comment already posted; moved from In Progress to Done")


async def test_a_persons_move_is_left_alone_and_the_comment_still_posted(
    bus: Bus, config: Config, linear: tuple[FakeLinear, str]
) -> None:
    fake, url = linear
    ticket = _ticket(fake, 3)
    fake.touch("issue-3", state="In Review")
    async with running(_config(config, url), ["writeback"]):
        await bus.publish(_completed(ticket))
        seen = await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 1)
    assert fake.state_history("ENG-3") == []
    assert len(fake.comments_on("ENG-3")) == 1
    written = next(e for _, e in seen if isinstance(e, TicketWrittenBack))
    assert written.status == "skipped"
    assert "moved by a person to In Review" in written.detail


async def test_ratelimited_waits_and_completes(bus: Bus, config: Config, linear: tuple[FakeLinear, str]) -> None:
    fake, url = linear
    ticket = _ticket(fake, 4)
    fake.touch("issue-4", state="In Progress")
    fake.ratelimit_next(1, reset_in_secs=1.0)
    async with running(_config(config, url), ["writeback"]):
        await bus.publish(_completed(ticket))
        await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 1, timeout=30)
    assert fake.state_history("ENG-4") == ["Done"]
    assert len(fake.comments_on("ENG-4")) == 1


async def test_deleted_issue_is_recorded_and_not_retried(
    bus: Bus, config: Config, linear: tuple[FakeLinear, str]
) -> None:
    fake, url = linear
    ticket = _ticket(fake, 5)
    del fake.issues["issue-5"]
    async with running(_config(config, url), ["writeback"]):
        await bus.publish(_completed(ticket))
        seen = await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 1)
        requests = fake.requests
        info = await bus.js.consumer_info(bus.stream, "writeback")
    written = next(e for _, e in seen if isinstance(e, TicketWrittenBack))
    assert written.status == "failed"
    assert "not found" in written.detail.lower()
    assert requests == 1
    assert info.num_redelivered == 0


async def test_dry_run_comments_but_never_moves_the_issue(
    bus: Bus, config: Config, linear: tuple[FakeLinear, str]
) -> None:
    fake, url = linear
    ticket = _ticket(fake, 6)
    async with running(_config(config, url), ["writeback"]):
        await bus.publish(_completed(ticket, outcome="dry_run"))
        await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 1)
    assert fake.state_history("ENG-6") == []
    assert len(fake.comments_on("ENG-6")) == 1
