"""Shell: claims in a KV bucket, taken and finished with compare-and-set so replicas never both run a task."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec
import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

from services.dispatcher.claim_policy import Claim
from services.runtime.bus import Bus
from services.runtime.errors import TransientError

CLAIMS_BUCKET = "sparks_claims"
_DECODER = msgspec.json.Decoder(Claim)
_ENCODER = msgspec.json.Encoder()


class ClaimLost(TransientError):
    """Someone else changed the claim between our read and our write: decide again."""


class TaskClaims:
    """Read, take, renew and finish claims; every write is conditional on the revision we read."""

    def __init__(self, kv: KeyValue, owner: str, clock: Callable[[], float] = time.time) -> None:
        self._kv = kv
        self.owner = owner
        self._clock = clock

    @classmethod
    async def open(cls, bus: Bus, owner: str) -> TaskClaims:
        """Open (create) the claims bucket."""
        return cls(await bus.key_value(CLAIMS_BUCKET), owner)

    async def read(self, task_id: str) -> tuple[Claim | None, int]:
        """The claim and its revision (0 when there is none)."""
        try:
            entry = await self._kv.get(task_id)
        except nats.js.errors.KeyNotFoundError:
            return None, 0
        return _DECODER.decode(entry.value or b""), entry.revision or 0

    async def write(self, task_id: str, claim: Claim, revision: int) -> int:
        """Create (revision 0) or replace the claim at `revision`; ClaimLost if it moved meanwhile."""
        data = _ENCODER.encode(claim)
        try:
            if revision == 0:
                return await self._kv.create(task_id, data)
            return await self._kv.update(task_id, data, last=revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            raise ClaimLost(f"claim on {task_id} changed meanwhile") from None
        except nats.errors.Error as exc:
            raise TransientError(f"claims bucket unavailable: {exc}") from None

    def running(self, attempt: int, ghost: str) -> Claim:
        """A fresh running claim owned by us."""
        return Claim(attempt=attempt, state="running", owner=self.owner, heartbeat_at=self._clock(), ghost=ghost)

    def renewed(self, claim: Claim) -> Claim:
        """The same claim with a fresh heartbeat."""
        return msgspec.structs.replace(claim, heartbeat_at=self._clock())
