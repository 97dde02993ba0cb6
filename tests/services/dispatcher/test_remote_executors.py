"""The http and nats executors against real servers: results, 5xx retries, refusals, timeouts, garbage."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest_asyncio
from aiohttp import web
from nats.aio.msg import Msg

from schemas import Ticket, TicketScanned
from schemas.task import AutonomousTask
from services.dispatcher.executors import ExecutorContext, execute
from services.dispatcher.task_builder import build_task
from services.runtime.bus import Bus
from services.runtime.config import GhostConfig
from services.runtime.embedded_server import free_port


def _task() -> AutonomousTask:
    ticket = Ticket(source="manual", external_id="9", title="Fix it", repo="acme/app")
    scanned = TicketScanned(
        event_id="e", ticket_id=ticket.ticket_id, occurred_at=datetime.now(UTC), causation_id=None,
        ticket=ticket, decision="allow", score=0.0,
    )  # fmt: skip
    return build_task(scanned, ghost="remote", default_repo=None, nonce="n")


@pytest_asyncio.fixture
async def agent() -> AsyncIterator[tuple[str, list[dict[str, object]], list[int]]]:
    received: list[dict[str, object]] = []
    script: list[int] = []

    async def run(request: web.Request) -> web.Response:
        received.append(await request.json())
        status = script.pop(0) if script else 200
        if status == 200:
            return web.json_response({"outcome": "success", "summary": "done remotely", "pr_url": "https://x/pr/1"})
        if status == 299:
            return web.Response(text="<html>not json</html>")
        return web.Response(status=status, text="busy")

    app = web.Application()
    app.router.add_post("/run", run)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/run", received, script
    await runner.cleanup()


async def _run(ghost: GhostConfig, bus: Bus, tmp_path: Path) -> object:
    async with httpx.AsyncClient() as http:
        return await execute(_task(), ghost, ExecutorContext(tmp_path, http, bus.nc))


async def test_http_ghost_gets_the_task_and_its_result_counts(
    agent: tuple[str, list[dict[str, object]], list[int]], bus: Bus, tmp_path: Path
) -> None:
    url, received, script = agent
    script.extend([503, 502])
    run = await _run(GhostConfig(name="remote", executor="http", url=url, http_retries=3), bus, tmp_path)
    assert run.verdict.outcome == "success"  # type: ignore[attr-defined]
    assert run.verdict.pr_url == "https://x/pr/1"  # type: ignore[attr-defined]
    assert len(received) == 3
    assert received[0]["title"] == "Fix it"


async def test_http_ghost_4xx_is_not_retried(
    agent: tuple[str, list[dict[str, object]], list[int]], bus: Bus, tmp_path: Path
) -> None:
    url, received, script = agent
    script.append(422)
    run = await _run(GhostConfig(name="remote", executor="http", url=url), bus, tmp_path)
    assert run.verdict.outcome == "failed"  # type: ignore[attr-defined]
    assert len(received) == 1


async def test_http_ghost_garbage_reply_is_failed(
    agent: tuple[str, list[dict[str, object]], list[int]], bus: Bus, tmp_path: Path
) -> None:
    url, _, script = agent
    script.append(299)
    run = await _run(GhostConfig(name="remote", executor="http", url=url), bus, tmp_path)
    assert run.verdict.outcome == "failed"  # type: ignore[attr-defined]
    assert "unreadable result" in run.verdict.summary  # type: ignore[attr-defined]


async def test_nats_ghost_worker_answers_on_its_subject(bus: Bus, tmp_path: Path) -> None:
    async def worker(msg: Msg) -> None:
        task = json.loads(msg.data)
        await msg.respond(json.dumps({"outcome": "rollback", "summary": f"could not fix {task['title']}"}).encode())

    sub = await bus.nc.subscribe("ghost.remote.run", cb=worker)
    run = await _run(GhostConfig(name="remote", executor="nats", timeout_secs=5), bus, tmp_path)
    await sub.unsubscribe()
    assert run.verdict.outcome == "rollback"  # type: ignore[attr-defined]
    assert run.verdict.summary == "could not fix Fix it"  # type: ignore[attr-defined]


async def test_nats_ghost_without_workers_fails_clearly(bus: Bus, tmp_path: Path) -> None:
    run = await _run(GhostConfig(name="nobody", executor="nats", timeout_secs=2), bus, tmp_path)
    assert run.verdict.outcome in ("failed", "timeout")  # type: ignore[attr-defined]
    assert "ghost.nobody.run" in run.verdict.summary  # type: ignore[attr-defined]
