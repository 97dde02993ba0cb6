"""Serve the real webhook app on a free port against a TicketAdmission on the test stream."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from aiohttp import web

import webhook_payloads as payloads
from services.intake.candidate import MappingRules
from services.intake.linear_issue import LinearFilters
from services.intake.submission_validator import IntakeLimits
from services.intake.ticket_admission import TicketAdmission
from services.intake.webhook_server import WebhookContext, build_app
from services.runtime.bus import Bus
from services.runtime.config import WebhookConfig
from services.runtime.embedded_server import free_port
from services.runtime.secrets import Secret

SECRETS = {route: [Secret(payloads.SECRET)] for route in ("generic", "linear", "github", "gitlab", "jira")}


@contextlib.asynccontextmanager
async def serving(ctx: WebhookContext) -> AsyncIterator[httpx.AsyncClient]:
    runner = web.AppRunner(build_app(ctx))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        yield client
    await runner.cleanup()


def context(admission: TicketAdmission, bus: Bus, **overrides: object) -> WebhookContext:
    async def ready() -> bool:
        return bus.nc.is_connected

    values: dict[str, object] = {
        "config": WebhookConfig(enabled=True, max_body_bytes=1_048_576, rate_limit_per_minute=600),
        "secrets": SECRETS,
        "limits": IntakeLimits(),
        "rules": MappingRules(),
        "linear_filters": LinearFilters(status_filter=["Todo", "In Progress"]),
        "admit": admission.admit,
        "ready": ready,
    }
    values.update(overrides)
    return WebhookContext(**values)  # type: ignore[arg-type]
