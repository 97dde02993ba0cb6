"""Writeback to GitHub against a fake REST API: one comment (even after a retry), close or label by outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec
import pytest
import pytest_asyncio
from aiohttp import web

from pipeline_helpers import count, running, wait_for
from schemas import TaskCompleted, Ticket, TicketWrittenBack
from services.runtime.bus import Bus
from services.runtime.config import Config, GithubWritebackConfig, WritebackConfig
from services.runtime.embedded_server import free_port

TOKEN = "ghp_canarytoken0000000000000000000000"


class FakeGithub:
    def __init__(self) -> None:
        self.comments: list[str] = []
        self.state = "open"
        self.labels: list[str] = []
        self.fail_next: list[int] = []
        self.patch_failures = 0
        self.auth_ok = True

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.auth_ok = False
            return web.json_response({"message": "Bad credentials"}, status=401)
        if self.fail_next:
            return web.json_response({"message": "oops"}, status=self.fail_next.pop(0))
        path, method = request.path, request.method
        if path.endswith("/comments") and method == "GET":
            return web.json_response([{"id": i, "body": b} for i, b in enumerate(self.comments)])
        if path.endswith("/comments") and method == "POST":
            self.comments.append((await request.json())["body"])
            return web.json_response({"id": len(self.comments)}, status=201)
        if path.endswith("/labels"):
            self.labels += (await request.json())["labels"]
            return web.json_response([], status=200)
        if method == "PATCH" and self.patch_failures:
            self.patch_failures -= 1
            return web.json_response({"message": "boom"}, status=502)
        if method == "PATCH":
            self.state = (await request.json())["state"]
            return web.json_response({"state": self.state})
        return web.json_response({"message": "Not Found"}, status=404)


@pytest_asyncio.fixture
async def github(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[FakeGithub, str]]:
    fake = FakeGithub()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    yield fake, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _config(config: Config, url: str) -> Config:
    return msgspec.structs.replace(config, writeback=WritebackConfig(github=GithubWritebackConfig(api_url=url)))


def _completed(outcome: str, n: int = 12) -> TaskCompleted:
    ticket = Ticket(source="github", external_id=f"acme/app#{n}", title="Crash when saving", repo="acme/app")
    return TaskCompleted(
        event_id=f"c-{outcome}-{n}", ticket_id=ticket.ticket_id, occurred_at=datetime.now(UTC), causation_id="s",
        ticket=ticket, task_id=f"task-{n}", ghost="coder", outcome=outcome, summary="Fixed the save handler",  # type: ignore[arg-type]
    )  # fmt: skip


async def _written(bus: Bus) -> TicketWrittenBack:
    seen = await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 1, timeout=30)
    written = next(e for _, e in seen if isinstance(e, TicketWrittenBack))
    assert written.target == "github"
    return written


async def test_success_comments_once_and_closes(bus: Bus, config: Config, github: tuple[FakeGithub, str]) -> None:
    fake, url = github
    async with running(_config(config, url), ["writeback"]):
        await bus.publish(_completed("success"))
        written = await _written(bus)
    assert (written.status, written.detail) == ("done", "comment posted; closed")
    assert len(fake.comments) == 1
    assert "Fixed the save handler" in fake.comments[0]
    assert fake.state == "closed"


async def test_a_retry_after_a_5xx_does_not_post_twice(
    bus: Bus, config: Config, github: tuple[FakeGithub, str]
) -> None:
    fake, url = github
    fake.comments.append("someone else's comment")

    # Closing fails once (502): the message is redelivered, and the comment must not be posted again.
    fake.patch_failures = 1
    async with running(_config(config, url), ["writeback"]):
        await bus.publish(_completed("success", n=13))
        written = await _written(bus)
    assert written.detail == "comment already posted; closed"
    assert len(fake.comments) == 2  # theirs and ours, ours once


async def test_rollback_is_labelled_not_closed(bus: Bus, config: Config, github: tuple[FakeGithub, str]) -> None:
    fake, url = github
    async with running(_config(config, url), ["writeback"]):
        await bus.publish(_completed("rollback", n=14))
        await _written(bus)
    assert fake.state == "open"
    assert fake.labels == ["sparks:rolled-back"]


async def test_missing_issue_is_recorded_as_failed(bus: Bus, config: Config, github: tuple[FakeGithub, str]) -> None:
    fake, url = github
    fake.fail_next.append(404)
    async with running(_config(config, url), ["writeback"]):
        await bus.publish(_completed("success", n=15))
        written = await _written(bus)
    assert written.status == "failed"
    assert "404" in written.detail
    assert TOKEN not in written.detail
