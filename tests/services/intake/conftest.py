"""Fixtures for intake: the fake Linear server and a ready TicketAdmission on the test stream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from fake_linear import FakeLinear, serve
from pipeline_helpers import reset_kv
from services.intake.ticket_admission import TicketAdmission
from services.runtime.bus import Bus


@pytest_asyncio.fixture
async def fake_linear() -> AsyncIterator[tuple[FakeLinear, str]]:
    fake = FakeLinear()
    runner, url = await serve(fake)
    yield fake, url
    await runner.cleanup()


@pytest_asyncio.fixture
async def admission(bus: Bus) -> TicketAdmission:
    await reset_kv(bus)
    return await TicketAdmission.open(bus, 24 * 3600)
