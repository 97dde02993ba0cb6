"""Shell: POST an outcome to a callback URL, signed like our webhooks, retried with backoff."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import httpx
import msgspec

from services.runtime.secrets import Secret
from services.writeback.writeback_plan import CallbackPayload

SIGNATURE_HEADER = "X-Sparks-Signature"
_ENCODER = msgspec.json.Encoder()


def sign(body: bytes, secret: Secret) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`, as GitHub signs its webhooks."""
    return "sha256=" + hmac.new(secret.reveal().encode(), body, hashlib.sha256).hexdigest()


class CallbackClient:
    """One pooled httpx client for every callback (never one per message)."""

    def __init__(self, secret: Secret | None, timeout: float, retries: int, backoff: float = 0.5) -> None:
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._secret = secret
        self._retries = retries
        self._backoff = backoff

    async def deliver(self, url: str, payload: CallbackPayload) -> tuple[bool, str]:
        """POST until a 2xx, a 4xx (permanent), or retries run out; returns (ok, what happened)."""
        body = _ENCODER.encode(payload)
        headers = {"Content-Type": "application/json", "Idempotency-Key": payload.event_id}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(body, self._secret)
        last = ""
        for attempt in range(1, self._retries + 2):
            try:
                response = await self._client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                last = f"attempt {attempt}: {type(exc).__name__}"
            else:
                if response.is_success:
                    return True, f"callback answered {response.status_code}"
                last = f"attempt {attempt}: callback answered {response.status_code}"
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    return False, f"{last} (not retried: the receiver refused it)"
            if attempt <= self._retries:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        return False, f"gave up after {self._retries + 1} attempts; last {last}"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
