"""One small error hierarchy, by meaning. Handlers raise these; `ack_policy` maps them to settlements."""

from __future__ import annotations


class SparksError(Exception):
    """Base of every error sparks-intake raises on purpose."""


class ConfigError(SparksError):
    """The configuration cannot be used; the message names the key and what to do."""


class PoisonMessage(SparksError):
    """This message can never be processed: dead-letter it now instead of retrying."""


class TransientError(SparksError):
    """A retry may succeed (network, broker, rate limit): redeliver after a delay."""
