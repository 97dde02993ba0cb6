"""Running services: `sparks run NAME...` (in this process) and `sparks up` (all four, with an embedded nats-server)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Sequence
from pathlib import Path

from services.runtime.bus import Bus, connect
from services.runtime.config import Config
from services.runtime.consumer import ConsumerLoop
from services.runtime.embedded_server import EmbeddedNats, free_port, port_is_free
from services.runtime.logging import get_logger
from services.runtime.service_registry import COMPANIONS, SERVICES

DEFAULT_URL = "nats://127.0.0.1:4222"


def url_file(config: Config) -> Path:
    """Where `sparks up` writes the embedded server's URL so other `sparks` commands find it."""
    return Path(config.nats.data_dir).parent / "nats.url"


def resolve_url(config: Config) -> str:
    """`NATS_URL` / `[nats] url`, else the running `sparks up`'s embedded server, else the default port."""
    if config.nats.url:
        return config.nats.url
    path = url_file(config)
    if path.is_file():
        return path.read_text().strip()
    return DEFAULT_URL


class ServiceGroup:
    """Some of the four services sharing one connection; `stop()` ends them gracefully."""

    def __init__(self, config: Config, names: Sequence[str]) -> None:
        self._config = config
        self._names = list(names)
        self._loops: list[ConsumerLoop] = []
        self._stopped = asyncio.Event()
        self.ready = asyncio.Event()

    def stop(self) -> None:
        """Stop fetching everywhere; in-flight messages finish or are nakked."""
        self._stopped.set()
        for loop in self._loops:
            loop.stop()

    async def run(self, url: str) -> None:
        """Connect, declare the stream and consumers, and consume until `stop()`."""
        nc = await connect(self._config.nats, url, name=f"sparks-{'+'.join(self._names)}")
        bus = Bus(nc, self._config.nats)
        resources = contextlib.AsyncExitStack()
        try:
            await bus.ensure_stream()
            definitions = [d for name in self._names for d in (SERVICES[name], *COMPANIONS.get(name, []))]
            for definition in definitions:
                name = definition.name
                handler = await definition.build(bus, self._config, resources)
                gate = await definition.gate(bus) if definition.gate else None
                self._loops.append(
                    ConsumerLoop(
                        bus,
                        definition.consumer,
                        handler,
                        concurrency=definition.concurrency(self._config),
                        service=name,
                        gate=gate,
                    )
                )
            tasks = [asyncio.create_task(loop.run()) for loop in self._loops]
            if self._stopped.is_set():
                self.stop()
            # Everything built so far (modules, clients, rules) lives as long as the process: keep
            # it out of the collector's full passes, whose pauses would otherwise land in p99.
            gc.collect()
            gc.freeze()
            self.ready.set()
            await asyncio.gather(*tasks)
        finally:
            await resources.aclose()
            await bus.close()


def install_signal_handlers(on_signal: asyncio.Event) -> None:
    """SIGINT/SIGTERM set `on_signal` instead of raising KeyboardInterrupt mid-ack."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal.set)


async def serve(group: ServiceGroup, url: str, stop: asyncio.Event) -> None:
    """Run `group` until `stop` is set, then shut it down cleanly."""
    runner = asyncio.create_task(group.run(url))
    stopper = asyncio.create_task(stop.wait())
    _done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    group.stop()
    stopper.cancel()
    await runner  # re-raises a startup error (e.g. NATS unreachable)


async def run_services(config: Config, names: Sequence[str]) -> None:
    """`sparks run NAME...`: these services in this process against the configured NATS."""
    stop = asyncio.Event()
    install_signal_handlers(stop)
    url = resolve_url(config)
    get_logger(service="+".join(names)).info("starting", nats_url=url)
    await serve(ServiceGroup(config, names), url, stop)


async def start_embedded(config: Config, port: int | None, announce: bool = True) -> EmbeddedNats:
    """Start the embedded server on the configured port, or a free one (said aloud) if it is taken."""
    wanted = port or config.nats.embedded_port
    chosen = wanted if port_is_free(wanted) else free_port()
    if chosen != wanted and announce:
        print(f"sparks: port {wanted} is taken (another NATS?); the embedded nats-server uses port {chosen} instead")
    server = EmbeddedNats(Path(config.nats.data_dir), chosen, config.nats.max_payload_bytes)
    await server.start()
    return server


async def up(config: Config, port: int | None = None) -> None:
    """`sparks up`: all four services in one process; embeds nats-server unless a URL is configured."""
    stop = asyncio.Event()
    install_signal_handlers(stop)
    server: EmbeddedNats | None = None
    if config.nats.url:
        url = config.nats.url
    else:
        server = await start_embedded(config, port)
        url = server.url
        url_file(config).write_text(url + "\n")
    group = ServiceGroup(config, list(SERVICES))
    try:
        data_dir = config.nats.data_dir
        announce = asyncio.create_task(_announce(group, url, server is not None, data_dir))
        await serve(group, url, stop)
        announce.cancel()
    finally:
        if server is not None:
            url_file(config).unlink(missing_ok=True)
            await server.stop()
        print("sparks: stopped cleanly", flush=True)


async def _announce(group: ServiceGroup, url: str, embedded: bool, data_dir: str) -> None:
    await group.ready.wait()
    where = f"embedded nats-server at {url} (data in {data_dir})" if embedded else f"NATS at {url}"
    print(
        f"sparks: intake, scanner, dispatcher and writeback are running on {where}\n"
        f"  submit a ticket:  nats -s {url} pub ticket.submit "
        '\'{"title": "Fix the login bug", "description": "..."}\'\n'
        '              or:  sparks submit --title "Fix the login bug" --description "..."\n'
        "  watch events:     sparks tail        one ticket's story: sparks audit TICKET_ID\n"
        "  stop:             Ctrl-C",
        flush=True,
    )
