"""Connecting to NATS, declaring the stream and durable consumers, and publishing events durably."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.kv import KeyValue

from schemas import Event
from services.runtime.config import NatsConfig
from services.runtime.errors import TransientError
from services.runtime.event_mapper import MAPPER, MSG_ID_HEADER, OutboundMessage
from services.runtime.logging import get_logger, register_secret

STREAM_SUBJECTS = ("ticket.>", "task.>", "dlq.>")
DEAD_LETTER_PREFIX = "dlq"
INITIAL_CONNECT_ATTEMPTS = 10
# Declaring streams, consumers and buckets can meet a server that is electing a leader or is
# still removing the files of a just-deleted stream; both answer 5xx and pass within seconds.
DECLARE_ATTEMPTS = 8

T = TypeVar("T")


async def _declare(what: str, op: Callable[[], Awaitable[T]]) -> T:
    """Run a declaration, retrying the server's transient 5xx answers with a growing pause."""
    for attempt in range(1, DECLARE_ATTEMPTS + 1):
        try:
            return await op()
        except (nats.js.errors.ServerError, nats.js.errors.ServiceUnavailableError) as exc:
            if attempt == DECLARE_ATTEMPTS:
                raise TransientError(f"declaring {what} failed {attempt} times: {exc.description}") from None
            get_logger(component="bus").warning("declare_retry", what=what, attempt=attempt, error=exc.description)
            await asyncio.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """One service's durable pull consumer; replicas of the service share it."""

    durable: str
    filter_subjects: tuple[str, ...]


def dead_letter_subject(durable: str) -> str:
    """Where a consumer's exhausted messages go."""
    return f"{DEAD_LETTER_PREFIX}.{durable}"


def _tls_context(cfg: NatsConfig) -> ssl.SSLContext | None:
    if not (cfg.tls_ca_file or cfg.tls_cert_file):
        return None
    context = ssl.create_default_context(cafile=cfg.tls_ca_file)
    if cfg.tls_cert_file:
        context.load_cert_chain(cfg.tls_cert_file, cfg.tls_key_file)
    return context


async def connect(cfg: NatsConfig, url: str, name: str) -> Client:
    """Connect with the configured credentials/TLS; reconnects forever so a broker restart is survived."""
    log = get_logger(component="bus", client=name)
    options: dict[str, Any] = {
        "servers": [u.strip() for u in url.split(",")],
        "name": name,
        # Bounded at start so a wrong URL fails in seconds; unbounded once connected (see below).
        "max_reconnect_attempts": INITIAL_CONNECT_ATTEMPTS,
        "reconnect_time_wait": 0.5,
        "connect_timeout": 5,
        "allow_reconnect": True,
    }
    if cfg.user:
        options["user"] = cfg.user
    if cfg.password:
        register_secret(cfg.password)
        options["password"] = cfg.password
    if cfg.token:
        register_secret(cfg.token)
        options["token"] = cfg.token
    if cfg.creds_file:
        options["user_credentials"] = cfg.creds_file
    if (tls := _tls_context(cfg)) is not None:
        options["tls"] = tls

    async def on_error(exc: Exception) -> None:
        log.warning("nats_error", error=str(exc))

    async def on_disconnect() -> None:
        log.info("nats_disconnected")

    async def on_reconnect() -> None:
        log.info("nats_reconnected")

    options.update(error_cb=on_error, disconnected_cb=on_disconnect, reconnected_cb=on_reconnect)
    try:
        nc = await nats.connect(**options)
    except (OSError, nats.errors.Error) as exc:
        raise TransientError(
            f"cannot connect to NATS at {url}: {exc}. Start it (or run `sparks up`, which embeds one) "
            "or point NATS_URL / [nats] url at a running server"
        ) from None
    # Once connected, reconnect forever: a broker restart must be survived, not end the service.
    nc.options["max_reconnect_attempts"] = -1
    return nc


def stream_config(cfg: NatsConfig) -> StreamConfig:
    """The SPARKS stream: file storage, limits retention (it is the audit log), deduplication window."""
    return StreamConfig(
        name=cfg.stream,
        subjects=list(STREAM_SUBJECTS),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=cfg.max_age_days * 86400.0,
        num_replicas=cfg.replicas,
        duplicate_window=cfg.duplicate_window_secs,
        max_msg_size=cfg.max_payload_bytes,
    )


def consumer_config(cfg: NatsConfig, spec: ConsumerSpec, max_ack_pending: int) -> ConsumerConfig:
    """Explicit ack, bounded deliveries, server-side backoff for messages whose ack never came."""
    multi = len(spec.filter_subjects) > 1
    return ConsumerConfig(
        name=spec.durable,
        durable_name=spec.durable,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=cfg.ack_wait_secs,
        max_deliver=cfg.max_deliver,
        # Server-side backoff would replace ack_wait for unacked messages and make heartbeats
        # interact with the backoff steps; the configured backoff is applied to naks instead.
        max_ack_pending=max_ack_pending,
        filter_subject=None if multi else spec.filter_subjects[0],
        filter_subjects=list(spec.filter_subjects) if multi else None,
    )


class Bus:
    """A connected client plus the JetStream context, the stream name and the durable publish call."""

    def __init__(self, nc: Client, cfg: NatsConfig) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream(timeout=10.0)
        self.cfg = cfg

    @property
    def stream(self) -> str:
        return self.cfg.stream

    async def ensure_stream(self) -> None:
        """Create the stream, or update it in place so config changes apply; idempotent."""
        wanted = stream_config(self.cfg)
        try:
            await _declare(f"stream {self.stream}", lambda: self.js.add_stream(wanted))
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code != 10058:  # stream name already in use with a different configuration
                raise
            await _declare(f"stream {self.stream}", lambda: self.js.update_stream(wanted))

    async def ensure_consumer(self, spec: ConsumerSpec, max_ack_pending: int) -> None:
        """Create or update a durable consumer; idempotent so every replica can call it at start."""
        wanted = consumer_config(self.cfg, spec, max_ack_pending)
        await _declare(f"consumer {spec.durable}", lambda: self.js.add_consumer(self.stream, wanted))

    async def key_value(self, bucket: str, ttl: float | None = None, history: int = 1) -> KeyValue:
        """Open (creating if needed) a KV bucket for small state; replicas follow the stream's."""
        try:
            return await _declare(
                f"bucket {bucket}",
                lambda: self.js.create_key_value(bucket=bucket, ttl=ttl, history=history, replicas=self.cfg.replicas),
            )
        except nats.js.errors.BadRequestError:
            # It exists with other settings (an operator changed them): use it as it is.
            return await self.js.key_value(bucket)

    async def publish_message(self, message: OutboundMessage) -> bool:
        """Publish and wait for the stream's ack; returns False when the stream saw it as a duplicate."""
        try:
            ack = await self.js.publish(
                message.subject, message.data, headers=dict(message.headers), stream=self.stream
            )
        except (
            nats.errors.TimeoutError,
            nats.errors.ConnectionClosedError,
            nats.js.errors.NoStreamResponseError,
        ) as exc:
            raise TransientError(f"publish to {message.subject} was not acknowledged: {type(exc).__name__}") from None
        return not ack.duplicate

    async def publish(self, event: Event) -> bool:
        """Publish one event durably (awaits the PubAck); deduplicated by its event id."""
        return await self.publish_message(MAPPER.to_message(event))

    async def close(self) -> None:
        """Flush and drain the connection."""
        if self.nc.is_connected:
            try:
                await self.nc.drain()
            except (nats.errors.Error, TimeoutError) as exc:
                get_logger(component="bus").warning("drain_failed", error=str(exc))
        if not self.nc.is_closed:
            await self.nc.close()


__all__ = ["MSG_ID_HEADER", "Bus", "ConsumerSpec", "connect", "dead_letter_subject"]
