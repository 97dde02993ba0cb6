"""Writeback: the envelope's callback_url receives one signed POST; a dead callback ends as `failed`."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from pipeline_helpers import count, running, wait_for
from schemas import TicketWrittenBack
from services.runtime.bus import Bus
from services.runtime.config import Config
from services.runtime.embedded_server import free_port

SECRET = "callback-canary-secret"


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    async def accept(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=410)

    app = web.Application()
    app.router.add_post("/cb", accept)
    app.router.add_post("/gone", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", received
    await runner.cleanup()


async def test_callback_gets_one_signed_outcome(
    bus: Bus, config: Config, receiver: tuple[str, list[tuple[dict[str, str], bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, received = receiver
    monkeypatch.setenv("SPARKS_WEBHOOK_SECRET", SECRET)
    async with running(config, ["intake", "scanner", "dispatcher", "writeback"]):
        body = {"title": "Fix it", "id": "CB-1", "callback_url": f"{base}/cb"}
        await bus.nc.publish("ticket.submit", json.dumps(body).encode())
        seen = await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 1)

    [(headers, payload)] = received
    expected = "sha256=" + hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Sparks-Signature"], expected)
    outcome = json.loads(payload)
    assert outcome["ticket_id"] == "manual:CB-1"
    assert outcome["outcome"] == "dry_run"
    written = next(e for s, e in seen if isinstance(e, TicketWrittenBack))
    assert (written.target, written.status) == ("callback", "done")
    assert SECRET not in json.dumps([str(e) for _, e in seen])


async def test_refusing_callback_is_recorded_as_failed_not_retried_forever(
    bus: Bus, config: Config, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    base, _ = receiver
    async with running(config, ["intake", "scanner", "dispatcher", "writeback"]):
        body = {"title": "Fix it", "id": "CB-2", "callback_url": f"{base}/gone"}
        await bus.nc.publish("ticket.submit", json.dumps(body).encode())
        seen = await wait_for(bus, lambda ev: count(ev, "ticket.written_back") == 1)
    written = next(e for s, e in seen if isinstance(e, TicketWrittenBack))
    assert written.status == "failed"
    assert "410" in written.detail
