"""Intake shell: `ticket.submit` consumer, plus the webhook server and the Linear poller when enabled."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import nats.js.errors

from schemas import SUBMIT_SUBJECT, subject_of
from services.intake.candidate import MappingRules
from services.intake.linear_issue import LinearFilters
from services.intake.linear_poller import LinearPoller
from services.intake.submission_validator import IntakeLimits, admit_submission
from services.intake.ticket_admission import TicketAdmission
from services.intake.webhook_server import ROUTES, WebhookContext, check_secrets, start_webhook_server
from services.runtime.bus import Bus, ConsumerSpec
from services.runtime.config import Config
from services.runtime.consumer import Handler, Inbound
from services.runtime.errors import ConfigError
from services.runtime.linear_api import LinearApi
from services.runtime.logging import get_logger, register_secret
from services.runtime.secrets import Secret, SecretStore, environment_with_dotenv


def webhook_secrets(store: SecretStore, config: Config) -> dict[str, list[Secret]]:
    """Per route: its own secret (SPARKS_WEBHOOK_SECRET_<ROUTE>) or the shared one, plus the previous one."""
    shared = store.get("webhook.secret", config.ticket_intake.webhook.secret)
    previous = store.get("webhook.secret_previous")
    secrets: dict[str, list[Secret]] = {}
    for route in ROUTES:
        own = store.env.get(f"SPARKS_WEBHOOK_SECRET_{route.upper()}")
        current = Secret(own) if own else shared
        secrets[route] = [s for s in (current, previous) if s is not None]
        for secret in secrets[route]:
            register_secret(secret.reveal())
    return secrets


async def _stream_ready(bus: Bus) -> bool:
    if not bus.nc.is_connected:
        return False
    try:
        await bus.js.stream_info(bus.stream)
    except (nats.js.errors.Error, nats.errors.Error, TimeoutError):
        return False
    return True


async def build_handler(bus: Bus, config: Config, resources: AsyncExitStack) -> Handler:
    """The `ticket.submit` handler; starts the webhook server and Linear poller as configured."""
    cfg = config.ticket_intake
    limits = IntakeLimits(
        max_title_chars=cfg.max_title_chars,
        max_description_chars=cfg.max_description_chars,
        max_labels=cfg.max_labels,
        default_risk_tier=cfg.default_risk_tier,
        risk_labels=cfg.risk_labels,
    )
    rules = MappingRules(cfg.default_risk_tier, cfg.risk_labels)
    log = get_logger(service="intake")
    if cfg.enabled and (cfg.webhook.enabled or cfg.linear.enabled):
        store = SecretStore(environment_with_dotenv())
        admission = await TicketAdmission.open(bus, cfg.dedupe_ttl_hours * 3600)
        if cfg.webhook.enabled:
            secrets = webhook_secrets(store, config)
            check_secrets(cfg.webhook, secrets)
            lin = cfg.linear
            ctx = WebhookContext(
                config=cfg.webhook,
                secrets=secrets,
                limits=limits,
                rules=rules,
                linear_filters=LinearFilters(lin.project_ids, lin.status_filter, lin.assignee_filter, lin.label_filter),
                admit=admission.admit,
                ready=lambda: _stream_ready(bus),
            )
            runner = await start_webhook_server(ctx)
            resources.push_async_callback(runner.cleanup)
        if cfg.linear.enabled:
            key = store.get("linear.api_key")
            if key is None:
                raise ConfigError(
                    "ticket_intake.linear: polling is enabled but LINEAR_API_KEY is not set "
                    "(environment, .env, or `sparks secrets set linear.api_key`)"
                )
            register_secret(key.reveal())
            api = LinearApi(
                cfg.linear.api_url, key, timeout=cfg.linear.request_timeout_secs, max_retries=cfg.linear.max_retries
            )
            resources.push_async_callback(api.aclose)
            poller = await LinearPoller.open(bus, api, admission, cfg.linear, rules)
            stop = asyncio.Event()
            task = asyncio.create_task(poller.run(stop))

            async def stop_poller() -> None:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

            resources.push_async_callback(stop_poller)

    async def handle(msg: Inbound) -> None:
        event = admit_submission(
            msg.data,
            message_ref=msg.message_ref,
            fallback_id=str(msg.stream_seq),
            received_at=datetime.now(UTC),
            limits=limits,
        )
        await bus.publish(event)
        log.info(subject_of(type(event)), ticket_id=event.ticket_id, event_id=event.event_id)

    return handle


CONSUMER = ConsumerSpec(durable="intake", filter_subjects=(SUBMIT_SUBJECT,))
