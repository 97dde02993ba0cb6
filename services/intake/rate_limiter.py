"""Pure core: a token bucket per source; time is passed in, so it is tested without sleeping."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """`rate_per_minute` requests per minute with bursts up to the same number."""

    rate_per_minute: float
    _tokens: dict[str, float] = field(default_factory=dict)
    _stamp: dict[str, float] = field(default_factory=dict)

    def take(self, key: str, now: float) -> float:
        """0.0 when allowed (a token is taken), else the seconds to wait before retrying."""
        capacity = self.rate_per_minute
        per_sec = capacity / 60.0
        tokens = min(capacity, self._tokens.get(key, capacity) + (now - self._stamp.get(key, now)) * per_sec)
        self._stamp[key] = now
        if tokens >= 1.0:
            self._tokens[key] = tokens - 1.0
            return 0.0
        self._tokens[key] = tokens
        return (1.0 - tokens) / per_sec if per_sec > 0 else 60.0
