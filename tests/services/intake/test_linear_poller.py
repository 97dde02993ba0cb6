"""The poller against the fake Linear server: pages, rate limits, 5xx, leadership, incremental cursor."""

from __future__ import annotations

import asyncio

import pytest

from fake_linear import FakeLinear
from pipeline_helpers import events
from schemas import TicketReceived
from services.intake.candidate import MappingRules
from services.intake.linear_poller import LinearPoller
from services.intake.ticket_admission import TicketAdmission
from services.runtime.bus import Bus
from services.runtime.config import LinearConfig
from services.runtime.linear_api import LinearApi, LinearPermanentError, RateBudget
from services.runtime.secrets import Secret

CONFIG = LinearConfig(enabled=True, project_ids=["proj-1"], status_filter=["Todo", "In Progress"], page_size=50)


class Sleeps:
    """Records the waits the client asked for, without spending them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, secs: float) -> None:
        self.waits.append(secs)
        await asyncio.sleep(0)


async def _poller(
    bus: Bus, admission: TicketAdmission, url: str, key: str, sleeps: Sleeps | None = None
) -> tuple[LinearPoller, LinearApi]:
    api = LinearApi(url, Secret(key), max_retries=4, sleep=sleeps or Sleeps())
    return await LinearPoller.open(bus, api, admission, CONFIG, MappingRules()), api


async def _received(bus: Bus) -> list[TicketReceived]:
    return [e for s, e in await events(bus) if isinstance(e, TicketReceived)]


async def test_250_matching_issues_across_pages_are_received_once(
    bus: Bus, admission: TicketAdmission, fake_linear: tuple[FakeLinear, str]
) -> None:
    fake, url = fake_linear
    for n in range(1, 251):
        fake.add_issue(n, f"Issue {n}")
    fake.add_issue(900, "Other project", project="proj-2")
    fake.add_issue(901, "Finished already", state="Done")
    poller, api = await _poller(bus, admission, url, fake.api_key)
    first = await poller.poll_once()
    assert first == {"accepted": 250, "inactive": 1}
    assert fake.requests == 6  # 251 issues in proj-1, 50 a page
    # The next poll is incremental: nothing changed, so nothing new is published.
    second = await poller.poll_once()
    assert "accepted" not in second
    received = await _received(bus)
    assert len(received) == 250
    assert len({e.ticket_id for e in received}) == 250
    await api.aclose()


async def test_ratelimited_waits_by_the_headers_and_resumes_without_loss(
    bus: Bus, admission: TicketAdmission, fake_linear: tuple[FakeLinear, str]
) -> None:
    fake, url = fake_linear
    for n in range(1, 121):
        fake.add_issue(n, f"Issue {n}")
    sleeps = Sleeps()
    poller, api = await _poller(bus, admission, url, fake.api_key, sleeps)
    fake.ratelimit_next(2, reset_in_secs=30)
    assert (await poller.poll_once()) == {"accepted": 120}
    assert len(sleeps.waits) == 2
    assert all(25 <= w <= 31 for w in sleeps.waits), sleeps.waits
    assert len(await _received(bus)) == 120
    await api.aclose()


async def test_5xx_is_retried_with_growing_backoff(
    bus: Bus, admission: TicketAdmission, fake_linear: tuple[FakeLinear, str]
) -> None:
    fake, url = fake_linear
    fake.add_issue(1, "Issue 1")
    sleeps = Sleeps()
    poller, api = await _poller(bus, admission, url, fake.api_key, sleeps)
    fake.fail_next(500, 502, 503)
    assert (await poller.poll_once()) == {"accepted": 1}
    assert len(sleeps.waits) == 3
    assert sleeps.waits[0] < sleeps.waits[2]
    await api.aclose()


async def test_bad_key_is_permanent_not_retried(
    bus: Bus, admission: TicketAdmission, fake_linear: tuple[FakeLinear, str]
) -> None:
    fake, url = fake_linear
    sleeps = Sleeps()
    poller, api = await _poller(bus, admission, url, "lin_api_wrong", sleeps)
    with pytest.raises(LinearPermanentError, match="LINEAR_API_KEY"):
        await poller.poll_once()
    assert fake.requests == 1
    assert sleeps.waits == []
    assert "lin_api_wrong" not in str(api.__dict__.get("_log"))
    await api.aclose()


async def test_only_one_replica_holds_the_poll_lease(
    bus: Bus, admission: TicketAdmission, fake_linear: tuple[FakeLinear, str]
) -> None:
    fake, url = fake_linear
    first, api1 = await _poller(bus, admission, url, fake.api_key)
    second, api2 = await _poller(bus, admission, url, fake.api_key)
    assert await first.hold_lease()
    assert not await second.hold_lease()
    assert await first.hold_lease()  # renewal by the holder
    await api1.aclose()
    await api2.aclose()


async def test_edited_issue_is_picked_up_incrementally_as_a_new_revision(
    bus: Bus, admission: TicketAdmission, fake_linear: tuple[FakeLinear, str]
) -> None:
    fake, url = fake_linear
    fake.add_issue(1, "Issue 1")
    poller, api = await _poller(bus, admission, url, fake.api_key)
    await poller.poll_once()
    fake.touch("issue-1", title="Issue 1, now with details")
    assert (await poller.poll_once()).get("accepted") == 1
    assert [e.ticket.revision for e in await _received(bus)] == [1, 2]
    await api.aclose()


def test_budget_holds_off_only_when_nearly_spent() -> None:
    now = 1_000.0
    assert RateBudget(remaining=100, reset_at=now + 60).wait_secs(now) == 0
    assert RateBudget(remaining=2, reset_at=now + 60).wait_secs(now) == 60
    assert RateBudget.from_headers({"X-RateLimit-Requests-Remaining": "x"}).remaining is None


async def test_garbage_api_response_is_reported_not_crashed_on(
    bus: Bus, admission: TicketAdmission, fake_linear: tuple[FakeLinear, str]
) -> None:
    fake, url = fake_linear
    fake.fail_next(200)  # HTTP 200 whose body is not GraphQL JSON
    poller, api = await _poller(bus, admission, url, fake.api_key)
    with pytest.raises(LinearPermanentError, match="without data"):
        await poller.poll_once()
    assert await _received(bus) == []
    await api.aclose()
