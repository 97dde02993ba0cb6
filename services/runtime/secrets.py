"""Secrets from the environment, `.env`, or the system keyring; they never reach logs or events."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

KEYRING_SERVICE = "sparks-intake"
# Secret name (as in `sparks secrets set NAME`) -> environment variable.
SECRET_ENV = {
    "webhook.secret": "SPARKS_WEBHOOK_SECRET",
    "webhook.secret_previous": "SPARKS_WEBHOOK_SECRET_PREVIOUS",
    "linear.api_key": "LINEAR_API_KEY",
    "github.token": "GITHUB_TOKEN",
    "nats.password": "NATS_PASSWORD",
    "nats.token": "NATS_TOKEN",
}


class Secret:
    """A value that prints as `***` so it cannot leak through repr, str or a log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value; call only where it is sent to its destination."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def environment_with_dotenv(env: Mapping[str, str] | None = None, dotenv_path: Path = Path(".env")) -> dict[str, str]:
    """The process environment with `.env` values filled in where the environment has none."""
    merged = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None} if dotenv_path.is_file() else {}
    merged.update(os.environ if env is None else env)
    return merged


def _from_keyring(name: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a declared dependency
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, name)
    except KeyringError:
        # No usable backend (headless server, container): the environment is the way there.
        return None


@dataclass(frozen=True, slots=True)
class SecretStore:
    """Looks a named secret up: environment (incl. `.env`), then keyring, then the config file's value."""

    env: Mapping[str, str]
    use_keyring: bool = True

    def get(self, name: str, config_value: str | None = None) -> Secret | None:
        """The secret called `name`, or None when it is set nowhere."""
        value = self.env.get(SECRET_ENV.get(name, ""), "")
        if not value and self.use_keyring:
            value = _from_keyring(name) or ""
        if not value and config_value:
            value = config_value
        return Secret(value) if value else None
