"""Pure core: constant-time checks of webhook signatures and tokens, with two secrets during rotation."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from services.runtime.secrets import Secret


def hmac_hex(secret: Secret, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.reveal().encode(), body, hashlib.sha256).hexdigest()


def signature_matches(provided: str | None, body: bytes, secrets: Sequence[Secret], prefix: str = "") -> bool:
    """True when `provided` (optionally `prefix`ed, e.g. `sha256=`) is the HMAC of `body` under any secret."""
    if not provided or not secrets:
        return False
    if prefix:
        if not provided.startswith(prefix):
            return False
        provided = provided[len(prefix) :]
    given = provided.strip().lower().encode("ascii", errors="replace")
    # Check every secret (no early exit) so timing does not tell which one matched.
    results = [hmac.compare_digest(given, hmac_hex(secret, body).encode()) for secret in secrets]
    return any(results)


def token_matches(provided: str | None, secrets: Sequence[Secret]) -> bool:
    """GitLab-style shared token, compared in constant time."""
    if not provided or not secrets:
        return False
    given = provided.encode("utf-8", errors="replace")
    results = [hmac.compare_digest(given, secret.reveal().encode()) for secret in secrets]
    return any(results)
