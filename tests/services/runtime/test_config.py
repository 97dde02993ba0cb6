"""Config: defaults, the seed's keys, and bad files named by key path and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime.config import Config, apply_env, find_config_path, load_config, parse_config
from services.runtime.errors import ConfigError

SEED = """
[ticket_intake]
enabled = true
sources = ["linear"]

[ticket_intake.linear]
enabled            = true
poll_interval_secs = 60
project_ids        = ["PROJECT_ID_1", "PROJECT_ID_2"]
status_filter      = ["Todo", "In Progress"]
assignee_filter    = ["bot-user"]

[ticket_intake.webhook]
enabled   = true
bind      = "127.0.0.1:8788"
secret    = ""

[prompt_scanner]
enabled   = true
mode      = "block"
threshold = 0.6

[[ghosts]]
name = "coder"
"""


def test_the_original_products_config_keys_still_load() -> None:
    config = parse_config(SEED)
    assert config.ticket_intake.linear.project_ids == ["PROJECT_ID_1", "PROJECT_ID_2"]
    assert config.ticket_intake.webhook.bind == "127.0.0.1:8788"
    assert config.prompt_scanner.effective_block_threshold == 0.6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[prompt_scanner]\nthreshold = "high"', 'prompt_scanner.threshold: expected a number, got "high"'),
        ("[nats]\nurll = 1", "nats.urll: unknown key"),
        ('[dispatcher]\nmax_concurrency = "8"', 'dispatcher.max_concurrency: expected an integer, got "8"'),
        (
            '[[dispatcher.ghosts]]\nname = "coder"',
            "dispatcher.ghosts[0].command: ghost 'coder' uses the command executor",
        ),
        ('[dispatcher]\ndefault_ghost = "nobody"', "dispatcher.default_ghost: no ghost named 'nobody'"),
        ("[prompt_scanner]\nflag_threshold = 0.9", "prompt_scanner.flag_threshold: must be between 0 and the block"),
        ("[nats]\nmax_deliver = 0", "nats.max_deliver: must be at least 1"),
        ("this is = = not toml", "not valid TOML"),
        ('[ticket_intake]\nlinear = "yes"', 'ticket_intake.linear: expected a table, got "yes"'),
    ],
)
def test_bad_config_names_key_and_reason(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "my.toml")
    assert str(info.value).startswith("my.toml: ")
    assert message in str(info.value)


def test_missing_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_config_path(None, {}) is None
    assert load_config(None, {}) == Config()


def test_lookup_order_is_flag_then_env_then_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sparks.toml").write_text("")
    assert find_config_path("a.toml", {"SPARKS_CONFIG": "b.toml"}) == Path("a.toml")
    assert find_config_path(None, {"SPARKS_CONFIG": "b.toml"}) == Path("b.toml")
    assert find_config_path(None, {}) == Path("sparks.toml")


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "nope.toml"), {})


def test_nats_url_from_environment_wins() -> None:
    config = apply_env(parse_config('[nats]\nurl = "nats://a:4222"'), {"NATS_URL": "nats://b:4222"})
    assert config.nats.url == "nats://b:4222"


def test_the_readme_configuration_example_is_a_valid_config() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    block = readme.split("## Configuration", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    config = parse_config(block, "README.md")
    assert config.dispatcher.ghosts[0].name == "coder"
    assert config.writeback.linear.started_state == "In Progress"
