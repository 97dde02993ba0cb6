"""Shell: the webhook HTTP server (aiohttp). Each route verifies before it parses; 202 only after the stream acked."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web

from services.intake.candidate import Candidate, Ignored, Invalid, MappingRules, Parsed
from services.intake.linear_issue import LinearFilters
from services.intake.provider_payloads import (
    linear_timestamp_ms,
    parse_generic,
    parse_github,
    parse_gitlab,
    parse_jira,
    parse_linear,
)
from services.intake.rate_limiter import TokenBucket
from services.intake.submission_validator import IntakeLimits
from services.intake.ticket_admission import Admitted
from services.intake.webhook_signatures import signature_matches, token_matches
from services.runtime.config import WebhookConfig
from services.runtime.errors import ConfigError, TransientError
from services.runtime.logging import get_logger
from services.runtime.secrets import Secret

ROUTES = ("generic", "linear", "github", "gitlab", "jira")
PATHS = {"generic": "/webhook", **{name: f"/webhook/{name}" for name in ROUTES[1:]}}

Admit = Callable[[Candidate], Awaitable[Admitted]]
Ready = Callable[[], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class WebhookContext:
    """Everything the routes need, decided once at start."""

    config: WebhookConfig
    secrets: Mapping[str, Sequence[Secret]]
    limits: IntakeLimits
    rules: MappingRules
    linear_filters: LinearFilters
    admit: Admit
    ready: Ready
    clock: Callable[[], float] = time.time


def check_secrets(config: WebhookConfig, secrets: Mapping[str, Sequence[Secret]]) -> None:
    """Fail closed: every enabled route needs a secret unless `allow_unsigned` says otherwise."""
    unknown = sorted(set(config.routes) - set(ROUTES))
    if unknown:
        raise ConfigError(f"ticket_intake.webhook.routes: unknown route(s) {unknown}; known: {list(ROUTES)}")
    missing = [r for r in config.routes if not secrets.get(r)]
    if missing and not config.allow_unsigned:
        raise ConfigError(
            f"ticket_intake.webhook: no secret for route(s) {', '.join(missing)}; set SPARKS_WEBHOOK_SECRET "
            "(or SPARKS_WEBHOOK_SECRET_<ROUTE>, or `sparks secrets set webhook.secret`), or drop them from "
            "routes. `allow_unsigned = true` is for local experiments only."
        )


def _error(status: int, message: str, **extra: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=extra or None)


def _verified(route: str, request: web.Request, body: bytes, ctx: WebhookContext) -> str | None:
    """None when the request is authentic, else what is wrong with its signature."""
    secrets = ctx.secrets.get(route, ())
    if not secrets and ctx.config.allow_unsigned:
        return None
    headers = request.headers
    match route:
        case "generic":
            given = headers.get(ctx.config.signature_header)
            prefix = "sha256=" if given and given.startswith("sha256=") else ""
            ok, header = signature_matches(given, body, secrets, prefix), ctx.config.signature_header
        case "linear":
            ok, header = signature_matches(headers.get("Linear-Signature"), body, secrets), "Linear-Signature"
        case "github":
            given = headers.get("X-Hub-Signature-256")
            ok, header = signature_matches(given, body, secrets, "sha256="), "X-Hub-Signature-256"
        case "gitlab":
            ok, header = token_matches(headers.get("X-Gitlab-Token"), secrets), "X-Gitlab-Token"
        case _:
            ok, header = signature_matches(headers.get("X-Hub-Signature"), body, secrets, "sha256="), "X-Hub-Signature"
    if ok:
        return None
    return f"missing {header} header" if header not in headers else f"{header} does not match the body"


def _parse(route: str, request: web.Request, body: bytes, ctx: WebhookContext) -> Parsed:
    h = request.headers
    match route:
        case "generic":
            return parse_generic(body, h.get("X-Sparks-Delivery"), ctx.limits)
        case "linear":
            return parse_linear(body, h.get("Linear-Delivery"), ctx.linear_filters, ctx.rules)
        case "github":
            return parse_github(body, h.get("X-GitHub-Event"), h.get("X-GitHub-Delivery"), ctx.rules)
        case "gitlab":
            delivery = h.get("Idempotency-Key") or h.get("X-Gitlab-Event-UUID")
            return parse_gitlab(body, delivery, ctx.rules)
        case _:
            return parse_jira(body, h.get("X-Atlassian-Webhook-Identifier"), ctx.rules)


def build_app(ctx: WebhookContext) -> web.Application:
    """The aiohttp application with one POST route per enabled provider plus /healthz and /readyz."""
    log = get_logger(service="intake", component="webhook")
    bucket = TokenBucket(float(ctx.config.rate_limit_per_minute))
    max_body = ctx.config.max_body_bytes

    def route_handler(route: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            if request.content_type != "application/json":
                return _error(415, f"Content-Type must be application/json, got {request.content_type or 'none'}")
            if request.content_length is not None and request.content_length > max_body:
                return _error(413, f"body is {request.content_length} bytes; the limit is {max_body}")
            wait = bucket.take(route, time.monotonic())
            if wait > 0:
                return _error(
                    429, f"rate limit for {route} reached; retry later", **{"Retry-After": str(int(wait) + 1)}
                )
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                return _error(413, f"body is larger than the limit of {max_body} bytes")
            problem = _verified(route, request, body, ctx)
            if problem:
                log.warning("webhook_unauthorized", route=route, problem=problem)
                return _error(401, problem)
            if route == "linear":
                stamp = linear_timestamp_ms(body)
                if stamp is None:
                    return _error(400, "webhookTimestamp: missing or not a number")
                skew = abs(ctx.clock() * 1000 - stamp) / 1000
                if skew > ctx.config.max_timestamp_skew_secs:
                    return _error(401, f"webhookTimestamp is {skew:.0f}s away from now; replays are refused")
            parsed = _parse(route, request, body, ctx)
            if isinstance(parsed, Invalid):
                return _error(400, parsed.problem)
            if isinstance(parsed, Ignored):
                return web.json_response({"status": "ignored", "reason": parsed.reason}, status=202)
            try:
                admitted = await ctx.admit(parsed)
            except TransientError as exc:
                log.warning("webhook_unavailable", route=route, error=str(exc))
                return _error(503, "the event store is unavailable; retry later", **{"Retry-After": "5"})
            return web.json_response(
                {"status": admitted.status, "ticket_id": admitted.ticket_id, "revision": admitted.revision}, status=202
            )

        return handle

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        ready = await ctx.ready()
        return web.json_response({"ready": ready}, status=200 if ready else 503)

    # aiohttp stops reading past the limit (chunked bodies too); we turn that into a JSON 413.
    app = web.Application(client_max_size=max_body)
    for route in ctx.config.routes:
        app.router.add_post(PATHS[route], route_handler(route))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


def parse_bind(bind: str) -> tuple[str, int]:
    """`host:port` from `[ticket_intake.webhook] bind`."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f'ticket_intake.webhook.bind: expected "host:port", got {bind!r}')
    return host.strip("[]"), int(port)


async def start_webhook_server(ctx: WebhookContext) -> web.AppRunner:
    """Listen on the configured address; the caller cleans the runner up."""
    host, port = parse_bind(ctx.config.bind)
    runner = web.AppRunner(build_app(ctx), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"ticket_intake.webhook.bind: cannot listen on {host}:{port}: {exc.strerror}") from None
    get_logger(service="intake").info("webhook_listening", url=f"http://{host}:{port}", routes=list(ctx.config.routes))
    return runner
