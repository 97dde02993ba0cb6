"""The webhook server on the real broker: signed requests from each provider, and every bad case refused."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio

import webhook_payloads as payloads
from pipeline_helpers import count, events, wait_for
from schemas import TicketReceived
from services.intake.ticket_admission import TicketAdmission
from services.intake.webhook_server import check_secrets
from services.runtime.bus import Bus
from services.runtime.config import WebhookConfig
from services.runtime.errors import ConfigError
from services.runtime.secrets import Secret
from webhook_harness import SECRETS, context, serving


@pytest_asyncio.fixture
async def client(admission: TicketAdmission, bus: Bus) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(context(admission, bus)) as c:
        yield c


PROVIDERS: dict[str, tuple[str, Callable[[], tuple[bytes, dict[str, str]]], str]] = {
    "generic": ("/webhook", payloads.generic, "webhook:"),
    "linear": ("/webhook/linear", payloads.linear, "linear:ENG-7"),
    "github": ("/webhook/github", payloads.github, "github:acme/app#12"),
    "gitlab": ("/webhook/gitlab", payloads.gitlab, "gitlab:acme/app#3"),
    "jira": ("/webhook/jira", payloads.jira, "jira:OPS-9"),
}


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_signed_request_is_accepted_after_the_stream_has_it(
    client: httpx.AsyncClient, bus: Bus, provider: str
) -> None:
    path, make, ticket_prefix = PROVIDERS[provider]
    body, headers = make()
    response = await client.post(path, content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"
    # 202 means durable: the event is already in the stream, no waiting needed.
    received = [e for s, e in await events(bus) if isinstance(e, TicketReceived)]
    assert len(received) == 1
    assert received[0].ticket_id.startswith(ticket_prefix)


async def test_provider_fields_are_mapped(client: httpx.AsyncClient, bus: Bus) -> None:
    for path, make, _ in (PROVIDERS["github"], PROVIDERS["jira"], PROVIDERS["linear"]):
        body, headers = make()
        assert (await client.post(path, content=body, headers=headers)).status_code == 202
    tickets = {e.ticket_id: e.ticket for s, e in await events(bus) if isinstance(e, TicketReceived)}
    assert tickets["github:acme/app#12"].risk_tier == "high"  # exact label "high"
    assert tickets["github:acme/app#12"].repo == "acme/app"
    assert tickets["jira:OPS-9"].risk_tier == "critical"  # priority Highest
    assert tickets["jira:OPS-9"].description == "Clean the cache"  # ADF flattened
    linear = tickets["linear:ENG-7"]
    assert (linear.risk_tier, linear.state, linear.provider_id, linear.team_id) == ("high", "Todo", "issue-7", "team-1")


def _tampered(
    make: Callable[[], tuple[bytes, dict[str, str]]], header: str, value: str | None
) -> tuple[bytes, dict[str, str]]:
    body, headers = make()
    if value is None:
        headers.pop(header)
    else:
        headers[header] = value
    return body, headers


BAD_CASES: dict[str, tuple[str, Callable[[], tuple[bytes, dict[str, str]]], int, str]] = {
    "bad_signature": (
        "/webhook/linear",
        lambda: _tampered(payloads.linear, "Linear-Signature", "00" * 32),
        401,
        "does not match",
    ),
    "missing_signature": (
        "/webhook/github",
        lambda: _tampered(payloads.github, "X-Hub-Signature-256", None),
        401,
        "missing X-Hub-Signature-256",
    ),
    "wrong_secret": (
        "/webhook",
        lambda: (
            lambda b: (
                b,
                {"Content-Type": "application/json", "X-Sparks-Signature": "sha256=" + payloads.sign(b, "other")},
            )
        )(payloads.generic()[0]),
        401,
        "does not match",
    ),
    "wrong_gitlab_token": (
        "/webhook/gitlab",
        lambda: _tampered(payloads.gitlab, "X-Gitlab-Token", "nope"),
        401,
        "X-Gitlab-Token",
    ),
    "stale_timestamp": (
        "/webhook/linear",
        lambda: payloads.linear(at_ms=int((time.time() - 3600) * 1000)),
        401,
        "replays are refused",
    ),
    "truncated_json": (
        "/webhook",
        lambda: (
            lambda b: (b, {"Content-Type": "application/json", "X-Sparks-Signature": "sha256=" + payloads.sign(b)})
        )(payloads.generic()[0][:-9]),
        400,
        "not valid JSON",
    ),
    "huge_body": (
        "/webhook",
        lambda: (
            lambda b: (b, {"Content-Type": "application/json", "X-Sparks-Signature": "sha256=" + payloads.sign(b)})
        )(b'{"title": "' + b"a" * (10 * 1024 * 1024) + b'"}'),
        413,
        "limit",
    ),
    "wrong_content_type": (
        "/webhook/jira",
        lambda: _tampered(payloads.jira, "Content-Type", "text/plain"),
        415,
        "application/json",
    ),
    "missing_title": (
        "/webhook",
        lambda: (
            lambda b: (b, {"Content-Type": "application/json", "X-Sparks-Signature": "sha256=" + payloads.sign(b)})
        )(b'{"description": "x"}'),
        400,
        "title: required field is missing",
    ),
    "linear_wrong_types": (
        "/webhook/linear",
        lambda: payloads.linear({"id": 5, "title": ["x"]}),
        400,
        "data.",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
async def test_bad_request_gets_the_right_status_and_nothing_is_published(
    client: httpx.AsyncClient, bus: Bus, case: str
) -> None:
    path, make, status, message = BAD_CASES[case]
    body, headers = make()
    response = await client.post(path, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert payloads.SECRET not in response.text
    assert await events(bus) == []


async def test_non_ticket_events_are_acknowledged_and_ignored(client: httpx.AsyncClient, bus: Bus) -> None:
    body, headers = payloads.linear(kind="Comment")
    response = await client.post("/webhook/linear", content=body, headers=headers)
    assert (response.status_code, response.json()["status"]) == (202, "ignored")
    body, headers = payloads.github()
    headers["X-GitHub-Event"] = "ping"
    assert (await client.post("/webhook/github", content=body, headers=headers)).json()["status"] == "ignored"
    assert await events(bus) == []


async def test_rate_limit_answers_429_with_retry_after(admission: TicketAdmission, bus: Bus) -> None:
    ctx = context(admission, bus, config=WebhookConfig(enabled=True, rate_limit_per_minute=2))
    async with serving(ctx) as c:
        statuses = []
        for _ in range(3):
            body, headers = payloads.github(number=len(statuses) + 1)
            statuses.append((await c.post("/webhook/github", content=body, headers=headers)).status_code)
        assert statuses[:2] == [202, 202]
        assert statuses[2] == 429
        body, headers = payloads.github(number=9)
        assert int((await c.post("/webhook/github", content=body, headers=headers)).headers["Retry-After"]) >= 1


async def test_rotation_accepts_the_previous_secret_too(admission: TicketAdmission, bus: Bus) -> None:
    rotated = {route: [Secret("new-secret"), Secret(payloads.SECRET)] for route in SECRETS}
    async with serving(context(admission, bus, secrets=rotated)) as c:
        body, headers = payloads.github()
        assert (await c.post("/webhook/github", content=body, headers=headers)).status_code == 202


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"ready": True}


def test_a_route_without_a_secret_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="no secret for route"):
        check_secrets(WebhookConfig(enabled=True), {"generic": [], "linear": [Secret("x")]})
    check_secrets(WebhookConfig(enabled=True, allow_unsigned=True), {})


async def test_503_when_the_stream_cannot_take_the_event(admission: TicketAdmission, bus: Bus) -> None:
    from services.runtime.errors import TransientError

    async def broken(_: object) -> object:
        raise TransientError("stream down")

    async with serving(context(admission, bus, admit=broken)) as c:
        body, headers = payloads.github()
        response = await c.post("/webhook/github", content=body, headers=headers)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"


async def test_wait_for_helper_sees_webhook_events(client: httpx.AsyncClient, bus: Bus) -> None:
    body, headers = payloads.generic("hello")
    await client.post("/webhook", content=body, headers=headers)
    seen = await wait_for(bus, lambda ev: count(ev, "ticket.received") == 1)
    assert json.loads(json.dumps(seen[0][1].ticket.title)) == "hello"
