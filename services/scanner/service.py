"""Scanner shell: consume `ticket.received`, scan, publish `ticket.scanned`."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from datetime import UTC, datetime

from schemas import TicketReceived, TicketScanned, subject_of
from services.runtime.bus import Bus, ConsumerSpec
from services.runtime.config import Config, PromptScannerConfig
from services.runtime.consumer import Handler, Inbound
from services.runtime.event_mapper import MAPPER, derived_event_id
from services.runtime.logging import get_logger
from services.scanner.scan_decision import ScanPolicy, scan_ticket

STAGE = "scanner"


def policy_from(cfg: PromptScannerConfig) -> ScanPolicy:
    """The core's policy from `[prompt_scanner]`."""
    return ScanPolicy(
        enabled=cfg.enabled,
        mode=cfg.mode,
        flag_threshold=cfg.flag_threshold,
        block_threshold=cfg.effective_block_threshold,
        max_findings=cfg.max_findings,
        max_span_chars=cfg.max_log_chars,
        allow_ticket_ids=frozenset(cfg.allowlist.ticket_ids),
        allow_repos=frozenset(cfg.allowlist.repos),
        allow_providers=frozenset(cfg.allowlist.providers),
        allow_authors=frozenset(cfg.allowlist.authors),
        allow_text_patterns=tuple(re.compile(p) for p in cfg.allowlist.text_patterns),
        downgrade_block_to_flag=cfg.allowlist.downgrade_block_to_flag,
        mode_overrides=tuple((o.provider, o.repo, o.mode) for o in cfg.mode_overrides),
    )


def scanned_event(received: TicketReceived, policy: ScanPolicy, at: datetime) -> TicketScanned:
    """The `ticket.scanned` event that answers `received`."""
    result = scan_ticket(received.ticket, policy)
    return TicketScanned(
        event_id=derived_event_id(received.event_id, STAGE),
        ticket_id=received.ticket_id,
        occurred_at=at,
        causation_id=received.event_id,
        ticket=received.ticket,
        decision=result.decision,
        score=result.score,
        findings=result.findings,
    )


async def build_handler(bus: Bus, config: Config, resources: AsyncExitStack) -> Handler:
    """The scanner handler: one `ticket.scanned` per `ticket.received`."""
    policy = policy_from(config.prompt_scanner)
    log = get_logger(service="scanner")

    async def handle(msg: Inbound) -> None:
        received = MAPPER.decode_as(msg.data, TicketReceived)
        event = scanned_event(received, policy, datetime.now(UTC))
        await bus.publish(event)
        log.info(
            "ticket.scanned",
            ticket_id=event.ticket_id,
            event_id=event.event_id,
            decision=event.decision,
            score=event.score,
        )

    return handle


CONSUMER = ConsumerSpec(durable="scanner", filter_subjects=(subject_of(TicketReceived),))
