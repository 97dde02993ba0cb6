"""What a service is to the runner: a name, its durable consumer, and a handler built from config."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

from services.runtime.bus import Bus, ConsumerSpec
from services.runtime.config import Config
from services.runtime.consumer import Handler


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    """A service: `build` turns the bus and config into the handler the consume loop calls.

    Clients the handler owns are registered on the exit stack, so they close when the service stops.
    """

    name: str
    consumer: ConsumerSpec
    build: Callable[[Bus, Config, AsyncExitStack], Awaitable[Handler]]
    concurrency: Callable[[Config], int] = lambda _config: 32
    # Asked before every fetch; False pauses fetching (the dispatcher's `sparks pause`).
    gate: Callable[[Bus], Awaitable[Callable[[], Awaitable[bool]]]] | None = None
