"""A continuous pull from a durable consumer: one pull request kept open, its messages delivered to
a callback and queued, never more requested than the caller has room for.

nats-py's `fetch` waits for each message through `next_msg`, which costs a task, a timer and a
uuid4 per message (bench/client_costs.py: 40 us of client CPU per message against 17.5 us this
way, ack included).
This is the "consume" pattern of the newer JetStream client APIs, reduced to what the consume loop
needs: `take(n)` returns up to n messages, and at most n are ever in flight towards us.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import Header

REQUEST_EXPIRES_SECS = 5.0
# A request that ended without messages for another reason than expiry (consumer missing, server
# shutting down, leadership moving) is not repeated at once: that would spin.
COOLDOWN_SECS = 0.5
_HEARTBEAT = "100"
_EXPIRED = "408"


class PullFeed:
    """Messages of one durable pull consumer, requested in batches no larger than the caller's room."""

    def __init__(self, nc: Client, stream: str, durable: str, api_prefix: str = "$JS.API") -> None:
        self._nc = nc
        self._next_subject = f"{api_prefix}.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._inbox = nc.new_inbox()
        self._sub: Subscription | None = None
        self._ready: collections.deque[Msg] = collections.deque()
        self._arrived = asyncio.Event()
        self._awaiting = 0  # messages the open request may still bring
        self._request_deadline = 0.0
        self._cooldown_until = 0.0

    async def start(self) -> None:
        """Subscribe to the inbox the server delivers to."""
        self._sub = await self._nc.subscribe(self._inbox, cb=self._on_message)

    async def _on_message(self, msg: Msg) -> None:
        status = msg.headers.get(Header.STATUS) if msg.headers else None
        if status is None:
            self._ready.append(msg)
            self._awaiting = max(self._awaiting - 1, 0)
            self._arrived.set()
            return
        if status == _HEARTBEAT:
            return
        # 404/408/409/503: the request is over, whatever it did not bring will not come.
        self._awaiting = 0
        if status != _EXPIRED:
            self._cooldown_until = time.monotonic() + COOLDOWN_SECS
        self._arrived.set()

    @property
    def flowing(self) -> bool:
        """Messages are here or a request is open for more: taking now costs no new request."""
        return bool(self._ready) or (self._awaiting > 0 and time.monotonic() < self._request_deadline)

    async def _request(self, room: int) -> None:
        now = time.monotonic()
        if self._awaiting and now < self._request_deadline:
            return  # the open request still covers it
        batch = room - len(self._ready)
        if batch <= 0 or now < self._cooldown_until:
            return
        body = json.dumps({"batch": batch, "expires": int(REQUEST_EXPIRES_SECS * 1e9)}).encode()
        await self._nc.publish(self._next_subject, body, reply=self._inbox)
        self._awaiting = batch
        # A request lost with a connection is given up a little after the server would have ended it.
        self._request_deadline = now + REQUEST_EXPIRES_SECS + 1.0

    async def take(self, room: int, timeout: float) -> list[Msg]:
        """Up to `room` messages: those already here, else wait up to `timeout` for the first."""
        if not self._ready:
            self._arrived.clear()
            await self._request(room)
            if not self._ready:
                try:
                    await asyncio.wait_for(self._arrived.wait(), timeout)
                except TimeoutError:
                    return []
        taken = [self._ready.popleft() for _ in range(min(room, len(self._ready)))]
        await self._request(room - len(taken))
        return taken

    async def close(self) -> None:
        """Stop listening; hand back what arrived but was never taken, so another replica gets it now."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
        while self._ready:
            msg = self._ready.popleft()
            try:
                await msg.nak()
            except nats.errors.Error:
                break  # disconnected: the server redelivers them after ack_wait anyway
