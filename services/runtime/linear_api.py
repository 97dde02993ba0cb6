"""Linear's GraphQL API over httpx: rate budget from headers, RATELIMITED, retries (intake and writeback)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from services.runtime.errors import PoisonMessage, TransientError
from services.runtime.logging import get_logger
from services.runtime.secrets import Secret

# Keep a few requests in hand for writeback and for people using the same key.
RESERVE_REQUESTS = 5
MAX_WAIT_SECS = 3600.0


class LinearPermanentError(PoisonMessage):
    """Linear refused the request for a reason a retry cannot fix (INPUT_ERROR, auth, not found)."""


class _GraphQLError(msgspec.Struct, frozen=True):
    message: str = ""
    extensions: dict[str, Any] = {}


class _GraphQLResponse(msgspec.Struct, frozen=True):
    data: dict[str, Any] | None = None
    errors: list[_GraphQLError] = []


@dataclass(frozen=True, slots=True)
class RateBudget:
    """What Linear's `X-RateLimit-Requests-*` headers said: requests left and when the window resets."""

    remaining: int | None = None
    reset_at: float | None = None  # seconds since epoch

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateBudget:
        """Read the headers; absent or malformed values leave the budget unknown."""

        def number(name: str) -> float | None:
            try:
                return float(headers[name])
            except (KeyError, ValueError):
                return None

        remaining = number("X-RateLimit-Requests-Remaining")
        reset_ms = number("X-RateLimit-Requests-Reset")
        return cls(int(remaining) if remaining is not None else None, reset_ms / 1000 if reset_ms else None)

    def wait_secs(self, now: float, reserve: int = RESERVE_REQUESTS) -> float:
        """How long to hold off before the next request: until reset when the budget is (nearly) spent."""
        if self.remaining is None or self.remaining > reserve or self.reset_at is None:
            return 0.0
        return min(max(self.reset_at - now, 0.0), MAX_WAIT_SECS)


def error_codes(response: _GraphQLResponse) -> set[str]:
    """The `extensions.code` of every GraphQL error."""
    return {str(e.extensions.get("code", "")) for e in response.errors}


class LinearApi:
    """One pooled client; `execute` returns `data` or raises Transient/Permanent errors after its retries."""

    def __init__(
        self,
        api_url: str,
        api_key: Secret,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        key = api_key.reveal()
        self._client = httpx.AsyncClient(
            timeout=timeout,
            headers={"Authorization": key, "Content-Type": "application/json", "User-Agent": "sparks-intake"},
        )
        self._url = api_url
        self._max_retries = max_retries
        self._sleep = sleep
        self._clock = clock
        self.budget = RateBudget()
        self.requests_sent = 0
        self._log = get_logger(component="linear_api")

    async def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one GraphQL document, waiting out rate limits and retrying 5xx/network errors with backoff."""
        body = msgspec.json.encode({"query": document, "variables": dict(variables or {})})
        last = ""
        for attempt in range(self._max_retries + 1):
            if (wait := self.budget.wait_secs(self._clock())) > 0:
                self._log.info("linear_budget_wait", wait_secs=round(wait, 1), remaining=self.budget.remaining)
                await self._sleep(wait)
                self.budget = RateBudget()
            try:
                self.requests_sent += 1
                response = await self._client.post(self._url, content=body)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}"
                await self._sleep(self._backoff(attempt))
                continue
            self.budget = RateBudget.from_headers(response.headers)
            try:
                parsed = msgspec.json.decode(response.content, type=_GraphQLResponse)
            except (msgspec.DecodeError, UnicodeDecodeError):
                parsed = _GraphQLResponse()
            codes = error_codes(parsed)
            if "RATELIMITED" in codes or response.status_code == 429:
                wait = self.budget.wait_secs(self._clock(), reserve=10**9) or self._backoff(attempt)
                self._log.warning("linear_ratelimited", wait_secs=round(wait, 1))
                last = "RATELIMITED"
                await self._sleep(wait)
                self.budget = RateBudget()
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                await self._sleep(self._backoff(attempt))
                continue
            if response.status_code in (401, 403) or "AUTHENTICATION_ERROR" in codes or "FORBIDDEN" in codes:
                raise LinearPermanentError("Linear refused the API key: check LINEAR_API_KEY (it is never logged)")
            if parsed.errors:
                messages = "; ".join(f"{e.extensions.get('code', 'ERROR')}: {e.message}" for e in parsed.errors)
                raise LinearPermanentError(f"Linear answered {response.status_code}: {messages[:500]}")
            if response.status_code >= 400 or parsed.data is None:
                raise LinearPermanentError(f"Linear answered {response.status_code} without data")
            return parsed.data
        raise TransientError(f"Linear did not answer after {self._max_retries + 1} attempts (last: {last})")

    def _backoff(self, attempt: int) -> float:
        return float(min(60.0, 0.5 * 2**attempt) * (0.5 + random.random() / 2))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
