"""structlog setup: JSON lines (console when a terminal), bound to service/ticket/event, secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

_REDACTED = "***"
_secret_values: set[str] = set()


def register_secret(value: str) -> None:
    """Make every later log line replace `value` with `***`, wherever it appears."""
    if len(value) >= 4:
        _secret_values.add(value)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _secret_values:
            if secret in value:
                value = value.replace(secret, _REDACTED)
    return value


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: no registered secret value survives into output."""
    if _secret_values:
        for key, value in event_dict.items():
            event_dict[key] = _redact_value(value)
    return event_dict


def configure_logging(level: str = "info", json_output: bool | None = None) -> None:
    """Configure structlog once for the process (JSON unless stderr is a terminal)."""
    as_json = not sys.stderr.isatty() if json_output is None else json_output
    processors: Iterable[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False),
    ]
    structlog.configure(
        processors=list(processors),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(**bound: Any) -> structlog.typing.FilteringBoundLogger:
    """A logger with `bound` context (service, ticket_id, event_id, ...)."""
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger().bind(**bound)
    return logger
