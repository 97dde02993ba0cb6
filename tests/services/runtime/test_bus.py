"""Declaring the stream, consumers and buckets against a real server, including its transient refusals."""

from __future__ import annotations

import nats.js.errors
import pytest

from services.runtime import bus as bus_module
from services.runtime.bus import Bus
from services.runtime.errors import TransientError


async def test_stream_can_be_recreated_right_after_it_was_deleted(bus: Bus) -> None:
    # The server removes a deleted stream's files in the background; re-creating at once can meet
    # "error creating store for stream" and must be retried rather than crash a starting service.
    for _ in range(5):
        await bus.js.delete_stream(bus.stream)
        await bus.ensure_stream()
        assert (await bus.js.stream_info(bus.stream)).config.name == bus.stream


async def test_transient_server_error_is_retried_until_it_passes() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise nats.js.errors.ServerError(code=500, err_code=10049, description="error creating store for stream")
        return "declared"

    assert await bus_module._declare("stream X", flaky) == "declared"
    assert calls == 3


async def test_server_error_that_never_passes_names_what_was_being_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bus_module, "DECLARE_ATTEMPTS", 2)

    async def broken() -> None:
        raise nats.js.errors.ServerError(code=500, err_code=10049, description="error creating store for stream")

    with pytest.raises(TransientError, match="declaring bucket sparks_claims failed 2 times: error creating store"):
        await bus_module._declare("bucket sparks_claims", broken)


async def test_bad_request_is_not_retried() -> None:
    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise nats.js.errors.BadRequestError(code=400, err_code=10058, description="stream name already in use")

    with pytest.raises(nats.js.errors.BadRequestError):
        await bus_module._declare("stream X", refused)
    assert calls == 1
