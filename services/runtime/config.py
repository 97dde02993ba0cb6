"""`sparks.toml` decoded into msgspec Structs; a bad file fails at start with the key path and the reason."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from schemas import RiskTier
from services.runtime.errors import ConfigError
from services.runtime.validation_messages import explain_validation_error

DEFAULT_CONFIG_NAME = "sparks.toml"


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every section: a typo in a key is an error, not a silently ignored setting."""


class LinearConfig(_Section, frozen=True):
    enabled: bool = False
    poll_interval_secs: float = 60.0
    project_ids: list[str] = []
    status_filter: list[str] = []
    assignee_filter: list[str] = []
    label_filter: list[str] = []
    api_url: str = "https://api.linear.app/graphql"
    page_size: int = 50
    max_retries: int = 5
    request_timeout_secs: float = 30.0
    leader_ttl_secs: float = 30.0


class WebhookConfig(_Section, frozen=True):
    enabled: bool = False
    bind: str = "127.0.0.1:8788"
    # Kept for the original product's key; prefer SPARKS_WEBHOOK_SECRET or the keyring.
    secret: str = ""
    max_body_bytes: int = 1_048_576
    routes: list[str] = msgspec.field(default_factory=lambda: ["generic", "linear", "github", "gitlab", "jira"])
    # Only for local experiments: routes accept unsigned requests. Never on a reachable address.
    allow_unsigned: bool = False
    signature_header: str = "X-Sparks-Signature"
    max_timestamp_skew_secs: float = 60.0
    rate_limit_per_minute: int = 600


class TicketIntakeConfig(_Section, frozen=True):
    enabled: bool = True
    sources: list[str] = msgspec.field(default_factory=lambda: ["manual"])
    default_risk_tier: RiskTier = "medium"
    max_title_chars: int = 512
    max_description_chars: int = 65_536
    max_labels: int = 50
    # Exact label names (case-insensitive) per risk tier: "highlight" is not "high".
    risk_labels: dict[RiskTier, list[str]] = msgspec.field(
        default_factory=lambda: {
            "low": ["low", "risk:low"],
            "medium": ["medium", "risk:medium"],
            "high": ["high", "risk:high"],
            "critical": ["critical", "risk:critical"],
        }
    )
    dedupe_ttl_hours: float = 24.0
    linear: LinearConfig = LinearConfig()
    webhook: WebhookConfig = WebhookConfig()


class ScannerAllowlist(_Section, frozen=True):
    ticket_ids: list[str] = []
    repos: list[str] = []
    providers: list[str] = []
    authors: list[str] = []
    # Regexes matched against visible text only; a match can turn block into flag, never into allow.
    text_patterns: list[str] = []
    downgrade_block_to_flag: bool = True


class ScannerModeOverride(_Section, frozen=True):
    mode: Literal["block", "flag_only"]
    provider: str | None = None
    repo: str | None = None


class PromptScannerConfig(_Section, frozen=True):
    enabled: bool = True
    mode: Literal["block", "flag_only"] = "block"
    # The original product's single knob; when set it is the block threshold.
    threshold: float | None = None
    flag_threshold: float = 0.3
    block_threshold: float = 0.6
    max_findings: int = 20
    max_log_chars: int = 200
    allowlist: ScannerAllowlist = ScannerAllowlist()
    mode_overrides: list[ScannerModeOverride] = []

    @property
    def effective_block_threshold(self) -> float:
        """`threshold` (seed spelling) wins over `block_threshold` when given."""
        return self.threshold if self.threshold is not None else self.block_threshold


class NatsConfig(_Section, frozen=True):
    url: str | None = None
    user: str | None = None
    password: str | None = None
    token: str | None = None
    creds_file: str | None = None
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    stream: str = "SPARKS"
    replicas: int = 1
    max_age_days: float = 365.0
    duplicate_window_secs: float = 900.0
    ack_wait_secs: float = 30.0
    max_deliver: int = 5
    backoff_secs: list[float] = msgspec.field(default_factory=lambda: [1.0, 5.0, 30.0, 120.0])
    embedded_port: int = 4222
    data_dir: str = ".sparks/nats"
    max_payload_bytes: int = 8 * 1024 * 1024


class GhostConfig(_Section, frozen=True):
    name: str
    description: str = ""
    role: str = ""
    keywords: list[str] = []
    labels: list[str] = []
    executor: Literal["command", "http", "nats", "dry-run"] = "command"
    command: list[str] = []
    url: str | None = None
    http_retries: int = 3
    max_concurrency: int = 2
    timeout_secs: float = 3600.0
    max_output_bytes: int = 65_536


class DispatcherConfig(_Section, frozen=True):
    default_ghost: str = "dry-run"
    default_repo: str | None = None
    max_concurrency: int = 8
    work_dir: str = ".sparks/work"
    # Risk tiers that wait for `sparks approve TICKET_ID` before a ghost runs.
    require_approval: list[RiskTier] = msgspec.field(default_factory=lambda: ["critical"])
    # A task whose dispatcher died mid-run: "fail" it (at most one run) or "retry" it (ghosts safe to
    # run twice) up to max_attempts runs, counted across restarts in the sparks_claims bucket.
    abandoned: Literal["fail", "retry"] = "fail"
    max_attempts: int = 3
    ghosts: list[GhostConfig] = []


class LinearWritebackConfig(_Section, frozen=True):
    # State names; when started_state is missing on a team, its lowest-position `started` state is used.
    started_state: str = "In Progress"
    outcome_states: dict[str, str] = msgspec.field(
        default_factory=lambda: {"success": "Done", "rollback": "Todo", "failed": "Todo", "timeout": "Todo"}
    )


class GithubWritebackConfig(_Section, frozen=True):
    api_url: str = "https://api.github.com"
    close_on_success: bool = True
    labels_by_outcome: dict[str, str] = msgspec.field(
        default_factory=lambda: {
            "rollback": "sparks:rolled-back",
            "failed": "sparks:failed",
            "timeout": "sparks:timed-out",
        }
    )
    timeout_secs: float = 15.0


class WritebackConfig(_Section, frozen=True):
    callback_timeout_secs: float = 10.0
    callback_retries: int = 3
    linear: LinearWritebackConfig = LinearWritebackConfig()
    github: GithubWritebackConfig = GithubWritebackConfig()


class Config(msgspec.Struct, frozen=True, kw_only=True):
    """The whole file. Unknown top-level sections are allowed: the original product's file has many."""

    ticket_intake: TicketIntakeConfig = TicketIntakeConfig()
    prompt_scanner: PromptScannerConfig = PromptScannerConfig()
    nats: NatsConfig = NatsConfig()
    dispatcher: DispatcherConfig = DispatcherConfig()
    writeback: WritebackConfig = WritebackConfig()


def parse_config(text: str, origin: str = DEFAULT_CONFIG_NAME) -> Config:
    """Decode TOML text into a Config, or raise ConfigError naming the file, key and reason."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from None
    try:
        config = msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        hint = "unknown key (check its spelling against the README's configuration section)"
        raise ConfigError(f"{origin}: {explain_validation_error(exc, raw, hint)}") from None
    _check_consistency(config, origin)
    return config


def _check_consistency(config: Config, origin: str) -> None:
    scanner = config.prompt_scanner
    if not 0 <= scanner.flag_threshold <= scanner.effective_block_threshold:
        raise ConfigError(
            f"{origin}: prompt_scanner.flag_threshold: must be between 0 and the block threshold "
            f"({scanner.effective_block_threshold}), got {scanner.flag_threshold}"
        )
    for i, pattern in enumerate(scanner.allowlist.text_patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"{origin}: prompt_scanner.allowlist.text_patterns[{i}]: not a valid regex: {exc}"
            ) from None
    names = [g.name for g in config.dispatcher.ghosts]
    if len(set(names)) != len(names):
        raise ConfigError(f"{origin}: dispatcher.ghosts: ghost names must be unique, got {names}")
    known = {*names, "dry-run"}
    if config.dispatcher.default_ghost not in known:
        raise ConfigError(
            f"{origin}: dispatcher.default_ghost: no ghost named {config.dispatcher.default_ghost!r}; "
            f"declare it as [[dispatcher.ghosts]] or use one of {sorted(known)}"
        )
    for i, ghost in enumerate(config.dispatcher.ghosts):
        if ghost.executor == "command" and not ghost.command:
            raise ConfigError(
                f"{origin}: dispatcher.ghosts[{i}].command: ghost {ghost.name!r} uses the command executor "
                'but has no command; give an argv list such as ["my-agent", "--task-file", "{task_file}"]'
            )
        if ghost.executor == "http" and not ghost.url:
            raise ConfigError(
                f"{origin}: dispatcher.ghosts[{i}].url: ghost {ghost.name!r} uses the http executor but has no url"
            )
        if ghost.max_concurrency < 1:
            raise ConfigError(f"{origin}: dispatcher.ghosts[{i}].max_concurrency: must be at least 1")
        if ghost.timeout_secs <= 0:
            raise ConfigError(f"{origin}: dispatcher.ghosts[{i}].timeout_secs: must be positive")
    for key, value in (
        ("nats.max_deliver", config.nats.max_deliver),
        ("dispatcher.max_concurrency", config.dispatcher.max_concurrency),
    ):
        if value < 1:
            raise ConfigError(f"{origin}: {key}: must be at least 1, got {value}")
    if config.nats.ack_wait_secs <= 0:
        raise ConfigError(f"{origin}: nats.ack_wait_secs: must be positive")


def find_config_path(cli_path: str | None, env: Mapping[str, str]) -> Path | None:
    """`--config PATH`, else `$SPARKS_CONFIG`, else `./sparks.toml` if it exists, else None (defaults)."""
    if cli_path:
        return Path(cli_path)
    if env.get("SPARKS_CONFIG"):
        return Path(env["SPARKS_CONFIG"])
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.is_file() else None


def apply_env(config: Config, env: Mapping[str, str]) -> Config:
    """Environment overrides: `NATS_URL` wins over `[nats] url`, NATS credentials from the environment."""
    overrides = {
        "url": env.get("NATS_URL"),
        "user": env.get("NATS_USER"),
        "password": env.get("NATS_PASSWORD"),
        "token": env.get("NATS_TOKEN"),
        "creds_file": env.get("NATS_CREDS"),
    }
    changed = {k: v for k, v in overrides.items() if v}
    if not changed:
        return config
    return msgspec.structs.replace(config, nats=msgspec.structs.replace(config.nats, **changed))


def load_config(cli_path: str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Find, read and decode the config, then apply environment overrides."""
    env = os.environ if env is None else env
    path = find_config_path(cli_path, env)
    if path is None:
        return apply_env(Config(), env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; create it or drop --config/$SPARKS_CONFIG") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    return apply_env(parse_config(text, str(path)), env)
