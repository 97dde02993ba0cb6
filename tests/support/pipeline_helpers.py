"""Helpers for tests that run services against the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import msgspec
import nats.js.errors

from schemas import AnyEvent
from services.runtime.bus import Bus, connect
from services.runtime.config import Config, DispatcherConfig, GhostConfig, NatsConfig
from services.runtime.event_mapper import MAPPER
from services.runtime.runner import ServiceGroup
from services.runtime.stream_reader import StoredMessage, read_stream

GHOSTS = Path(__file__).parent.parent / "ghosts"


def make_config(url: str, tmp_path: Path, ghosts: Sequence[GhostConfig] = (), default_ghost: str = "dry-run") -> Config:
    """Short ack waits and backoff so redelivery happens within a test's time."""
    return Config(
        nats=NatsConfig(
            url=url, ack_wait_secs=2.0, max_deliver=3, backoff_secs=[0.2, 0.4], data_dir=str(tmp_path / "nats")
        ),
        dispatcher=DispatcherConfig(default_ghost=default_ghost, ghosts=list(ghosts), work_dir=str(tmp_path / "work")),
    )


def ghost(name: str, script: str, *args: str, timeout: float = 30.0, max_output: int = 65_536) -> GhostConfig:
    """A command ghost running one of the scripts in tests/ghosts with this interpreter."""
    return GhostConfig(
        name=name,
        executor="command",
        command=[sys.executable, str(GHOSTS / script), *args],
        timeout_secs=timeout,
        max_output_bytes=max_output,
    )


KV_BUCKETS = (
    "sparks_dedupe",
    "sparks_tickets",
    "sparks_cursors",
    "sparks_leases",
    "sparks_claims",
    "sparks_control",
    "sparks_audit_index",
    "sparks_write_order",
)


async def reset_kv(bus: Bus) -> None:
    """Drop intake's KV buckets so a test starts with no memory of earlier tickets."""
    for bucket in KV_BUCKETS:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await bus.js.delete_key_value(bucket)


@contextlib.asynccontextmanager
async def clean_bus(config: Config) -> AsyncIterator[Bus]:
    """A bus on an empty SPARKS stream (each test starts from nothing)."""
    bus = Bus(await connect(config.nats, config.nats.url or "", name="test"), config.nats)
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await bus.js.delete_stream(config.nats.stream)
    await reset_kv(bus)
    await bus.ensure_stream()
    try:
        yield bus
    finally:
        await bus.close()


@contextlib.asynccontextmanager
async def running(config: Config, names: Sequence[str]) -> AsyncIterator[ServiceGroup]:
    """Run services in this process for the duration of the block; stop them gracefully after."""
    group = ServiceGroup(config, names)
    task = asyncio.create_task(group.run(config.nats.url or ""))
    ready = asyncio.create_task(group.ready.wait())
    done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    try:
        yield group
    finally:
        group.stop()
        await task


async def stored(bus: Bus, subjects: tuple[str, ...] = ("ticket.>", "task.>")) -> list[StoredMessage]:
    """Everything in the stream on `subjects`, in order."""
    return [m async for m in read_stream(bus, subjects)]


async def events(bus: Bus) -> list[tuple[str, AnyEvent]]:
    """Every decodable event in the stream with its subject, in order."""
    out = []
    for m in await stored(bus):
        with contextlib.suppress(msgspec.DecodeError):
            out.append((m.subject, MAPPER.decode(m.data)))
    return out


async def wait_for(
    bus: Bus, done: Callable[[list[tuple[str, AnyEvent]]], bool], timeout: float = 20.0
) -> list[tuple[str, AnyEvent]]:
    """Poll the stream until `done(events)`; fail with what was there if it never happens."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: list[tuple[str, AnyEvent]] = []
    while loop.time() < deadline:
        seen = await events(bus)
        if done(seen):
            return seen
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out; stream holds: {[(s, e.ticket_id) for s, e in seen]}")


def count(seen: list[tuple[str, AnyEvent]], subject: str, ticket_id: str | None = None) -> int:
    """How many events on `subject` (for `ticket_id`) were seen."""
    return sum(1 for s, e in seen if s == subject and (ticket_id is None or e.ticket_id == ticket_id))
