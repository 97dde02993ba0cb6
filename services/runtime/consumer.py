"""The consume loop every service runs: fetch, handle, settle (ack / nak / dead-letter) in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg

from services.runtime.ack_policy import Ack, DeadLetter, Retry, settle
from services.runtime.bus import Bus, ConsumerSpec, dead_letter_subject
from services.runtime.errors import TransientError
from services.runtime.event_mapper import OutboundMessage, derived_event_id
from services.runtime.logging import get_logger
from services.runtime.periodic import every
from services.runtime.pull_feed import PullFeed


@dataclass(slots=True)
class Inbound:
    """One delivered message as a handler sees it."""

    subject: str
    data: bytes
    stream_seq: int
    delivered: int
    _msg: Msg = field(repr=False)
    heartbeat_interval: float = 10.0

    @property
    def message_ref(self) -> str:
        """A stable reference to the stored message, used as causation for raw input."""
        return f"{self.subject}#{self.stream_seq}"

    @contextlib.asynccontextmanager
    async def heartbeat(self) -> AsyncIterator[None]:
        """Keep telling the server we are working (`in_progress`) so long work is not redelivered."""

        async def beat() -> None:
            with contextlib.suppress(nats.errors.Error):
                await self._msg.in_progress()

        async with every(self.heartbeat_interval, beat):
            yield


Handler = Callable[[Inbound], Awaitable[None]]


class DeadLetterRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the dead-letter subject keeps: the original message and why it was given up on."""

    consumer: str
    subject: str
    stream_seq: int
    delivered: int
    error: str
    failed_at: datetime
    data: str


_DLQ_ENCODER = msgspec.json.Encoder()


class ConsumerLoop:
    """Runs `handler` over a durable consumer with at most `concurrency` messages in flight."""

    def __init__(
        self,
        bus: Bus,
        spec: ConsumerSpec,
        handler: Handler,
        *,
        concurrency: int,
        service: str,
        gate: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._bus = bus
        self._spec = spec
        self._handler = handler
        self._gate = gate
        self._concurrency = concurrency
        self._inflight: set[asyncio.Task[None]] = set()
        self._log = get_logger(service=service)
        self._stopping = asyncio.Event()
        self.processed = 0

    def stop(self) -> None:
        """Stop fetching; messages in flight are finished by `run` before it returns."""
        self._stopping.set()

    async def run(self, grace_secs: float = 10.0) -> None:
        """Fetch and process until `stop()`; then finish in-flight work or nak it for another replica."""
        cfg = self._bus.cfg
        await self._bus.ensure_consumer(self._spec, max_ack_pending=max(self._concurrency * 4, 64))
        feed = PullFeed(self._bus.nc, self._bus.stream, self._spec.durable)
        await feed.start()
        heartbeat = max(cfg.ack_wait_secs / 3.0, 0.2)
        try:
            while not self._stopping.is_set():
                if self._gate is not None and not await self._gate():
                    # Paused: request nothing, so waiting work stays in the stream, not in memory.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), 1.0)
                    continue
                free = self._concurrency - len(self._inflight)
                # A new request waits for half the slots, so a busy consumer asks in batches rather
                # than a round trip per freed slot; what is already flowing is taken at once.
                if free <= 0 or (self._inflight and free < self._concurrency // 2 and not feed.flowing):
                    stopping = asyncio.create_task(self._stopping.wait())
                    await asyncio.wait({*self._inflight, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    stopping.cancel()
                    continue
                # The feed never has more messages coming than `free`, so each one starts on arrival
                # and none waits in memory while its ack_wait runs out.
                try:
                    msgs = await feed.take(free, timeout=1.0)
                except (nats.errors.ConnectionClosedError, nats.errors.ConnectionDrainingError):
                    break
                except nats.errors.Error as exc:
                    # Disconnected or reconnecting: the client reconnects by itself.
                    self._log.warning("pull_failed", error=str(exc))
                    await asyncio.sleep(0.5)
                    continue
                for msg in msgs:
                    task = asyncio.create_task(self._process(msg, heartbeat))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
        finally:
            with contextlib.suppress(nats.errors.Error):
                await feed.close()
            await self._finish_inflight(grace_secs)

    async def _finish_inflight(self, grace_secs: float) -> None:
        if not self._inflight:
            return
        _, pending = await asyncio.wait(self._inflight, timeout=grace_secs)
        for task in pending:
            # Cancelling makes _process nak the message so another replica takes it at once.
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _process(self, msg: Msg, heartbeat: float) -> None:
        meta = msg.metadata
        inbound = Inbound(
            subject=msg.subject,
            data=msg.data,
            stream_seq=meta.sequence.stream,
            delivered=meta.num_delivered,
            _msg=msg,
            heartbeat_interval=heartbeat,
        )
        log = self._log.bind(subject=msg.subject, stream_seq=inbound.stream_seq, delivered=inbound.delivered)
        error: BaseException | None = None
        try:
            await self._handler(inbound)
        except asyncio.CancelledError:
            with contextlib.suppress(nats.errors.Error):
                await msg.nak()
            log.info("nakked_on_shutdown")
            raise
        except Exception as exc:  # every handler error is settled below, by the one policy
            error = exc
        cfg = self._bus.cfg
        decision = settle(error, inbound.delivered, cfg.max_deliver, cfg.backoff_secs)
        try:
            match decision:
                case Ack():
                    await msg.ack()
                    self.processed += 1
                case Retry(delay=delay):
                    log.warning("retrying", error=f"{type(error).__name__}: {error}", delay_secs=delay)
                    await msg.nak(delay=delay)
                case DeadLetter(error=reason):
                    try:
                        await self._dead_letter(inbound, reason)
                    except TransientError as exc:
                        # The dead letter itself is not durable yet: keep the message instead of
                        # terminating it, so nothing is lost; it comes back after ack_wait.
                        log.warning("dead_letter_not_stored", error=str(exc))
                        return
                    await msg.term()
                    log.error("dead_lettered", error=reason)
        except nats.errors.Error as exc:
            # The settlement did not reach the server: the message is redelivered after ack_wait
            # and the deterministic event ids make reprocessing it harmless.
            log.warning("settle_failed", error=str(exc))

    async def _dead_letter(self, inbound: Inbound, reason: str) -> None:
        record = DeadLetterRecord(
            consumer=self._spec.durable,
            subject=inbound.subject,
            stream_seq=inbound.stream_seq,
            delivered=inbound.delivered,
            error=reason,
            failed_at=datetime.now(UTC),
            data=inbound.data.decode("utf-8", errors="replace"),
        )
        msg_id = derived_event_id(inbound.message_ref, f"dlq.{self._spec.durable}")
        await self._bus.publish_message(
            OutboundMessage(
                dead_letter_subject(self._spec.durable), {"Nats-Msg-Id": msg_id}, _DLQ_ENCODER.encode(record)
            )
        )
