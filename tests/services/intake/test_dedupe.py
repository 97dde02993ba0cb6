"""The same Linear change by webhook, by a retry hours later, and by the poller is one ticket.received."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import msgspec

import webhook_payloads as payloads
from fake_linear import FakeLinear
from pipeline_helpers import clean_bus, count, events, make_config, reset_kv
from schemas import TicketReceived
from services.intake.candidate import MappingRules
from services.intake.linear_poller import LinearPoller
from services.intake.ticket_admission import TicketAdmission
from services.runtime.config import Config, LinearConfig
from services.runtime.linear_api import LinearApi
from services.runtime.secrets import Secret
from webhook_harness import context, serving

TWO_HOURS = 2 * 3600


async def _post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> str:
    response = await client.post("/webhook/linear", content=body, headers=headers)
    assert response.status_code == 202, response.text
    status: str = response.json()["status"]
    return status


def _short_window(config: Config, tmp_path: Path) -> Config:
    # A one-second duplicate window: the stream forgets message ids, so only intake's own dedupe can hold.
    base = make_config(config.nats.url or "", tmp_path)
    return msgspec.structs.replace(base, nats=msgspec.structs.replace(base.nats, duplicate_window_secs=1.0))


async def test_webhook_retry_hours_later_and_poll_yield_one_ticket(
    config: Config, tmp_path: Path, fake_linear: tuple[FakeLinear, str]
) -> None:
    fake, url = fake_linear
    async with clean_bus(_short_window(config, tmp_path)) as bus:
        await reset_kv(bus)
        admission = await TicketAdmission.open(bus, 24 * 3600)
        issue = fake.add_issue(7, "Fix the login bug", labels=["bug"], updatedAt="2026-11-24T06:00:00.000Z")
        data = payloads.linear_issue_data(
            7, title=issue["title"], description=issue["description"], updated=issue["updatedAt"]
        )
        body, headers = payloads.linear(data)

        async with serving(context(admission, bus)) as client:
            assert await _post(client, body, headers) == "accepted"
            # Linear retries the same delivery (same Linear-Delivery, same body) after our 202 was lost.
            assert await _post(client, body, headers) == "duplicate"

        await asyncio.sleep(1.2)  # the stream's duplicate window has passed
        later = time.time() + TWO_HOURS
        # The 6 h retry carries a fresh timestamp and delivery id; our clock is two hours ahead.
        body2, headers2 = payloads.linear(data, at_ms=int(later * 1000))
        async with serving(context(admission, bus, clock=lambda: later)) as client:
            assert await _post(client, body2, headers2) == "duplicate"

        api = LinearApi(url, Secret(fake.api_key), max_retries=2)
        poller = await LinearPoller.open(
            bus, api, admission, LinearConfig(enabled=True, status_filter=["Todo"]), MappingRules()
        )
        assert await poller.poll_once() == {"unchanged": 1}
        await api.aclose()

        received = [e for s, e in await events(bus) if isinstance(e, TicketReceived)]
        assert len(received) == 1
        assert received[0].ticket.revision == 1


async def test_edits_make_revisions_but_our_own_state_moves_never_do(admission: TicketAdmission, bus: object) -> None:
    from services.runtime.bus import Bus

    assert isinstance(bus, Bus)
    async with serving(context(admission, bus)) as client:
        states = []
        for state, title, updated in [
            ("Todo", "Fix the login bug", "2026-11-24T06:00:00.000Z"),
            ("In Progress", "Fix the login bug", "2026-11-24T06:01:00.000Z"),  # sparks moved it: not new work
            ("In Progress", "Fix the login bug for SSO users too", "2026-11-24T06:02:00.000Z"),  # a person edited it
            ("Done", "Fix the login bug for SSO users too", "2026-11-24T06:03:00.000Z"),  # sparks finished it
            ("Todo", "Fix the login bug for SSO users too", "2026-11-24T06:04:00.000Z"),  # a person reopened it
        ]:
            body, headers = payloads.linear(
                payloads.linear_issue_data(7, title=title, state=state, updated=updated), action="update"
            )
            states.append(await _post(client, body, headers))
    assert states == ["accepted", "unchanged", "accepted", "inactive", "accepted"]
    revisions = [e.ticket.revision for s, e in await events(bus) if isinstance(e, TicketReceived)]
    assert revisions == [1, 2, 3]
    assert count(await events(bus), "ticket.received", "linear:ENG-7") == 3
