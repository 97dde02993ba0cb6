"""Secrets: looked up in order, and never printed or logged."""

from __future__ import annotations

import io
import json
from pathlib import Path

import structlog

from services.runtime.logging import configure_logging, get_logger, register_secret
from services.runtime.secrets import Secret, SecretStore, environment_with_dotenv


def test_environment_beats_dotenv_and_dotenv_fills_gaps(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("SPARKS_WEBHOOK_SECRET=from-dotenv\nLINEAR_API_KEY='lin_api_dotenv'\n")
    env = environment_with_dotenv({"SPARKS_WEBHOOK_SECRET": "from-env"}, dotenv)
    store = SecretStore(env, use_keyring=False)
    assert store.get("webhook.secret") == Secret("from-env")
    assert store.get("linear.api_key") == Secret("lin_api_dotenv")
    assert store.get("nats.token") is None
    assert store.get("nats.token", "from-config") == Secret("from-config")


def test_secret_never_shows_in_repr_or_str() -> None:
    secret = Secret("canary-4f1e9")
    assert "canary" not in repr(secret)
    assert "canary" not in str(secret)
    assert "canary" not in f"{secret}"


def test_registered_secret_is_redacted_from_log_lines(capsys: object) -> None:
    configure_logging("info", json_output=True)
    register_secret("canary-77aa31")
    buffer = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    get_logger(service="test").warning("connect_failed", error="auth failed for token canary-77aa31 at host")
    line = json.loads(buffer.getvalue())
    assert "canary-77aa31" not in buffer.getvalue()
    assert line["error"] == "auth failed for token *** at host"
