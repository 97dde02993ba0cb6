"""The `sparks` command as a user runs it: `sparks up` end to end, Ctrl-C, help, compose wiring."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from pipeline_helpers import count, wait_for
from services.runtime.bus import Bus
from services.runtime.cli import _parser, main
from services.runtime.config import Config
from services.runtime.embedded_server import free_port

ROOT = Path(__file__).parent.parent
SPARKS = [sys.executable, "-m", "services.runtime.cli"]


def _run(args: list[str], cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SPARKS, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_env())


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "SPARKS_CONFIG")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_sparks_up_takes_a_ticket_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    # Occupy the configured port so `sparks up` must say so and pick another.
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    (tmp_path / "sparks.toml").write_text(f"[nats]\nembedded_port = {taken}\n")
    up = subprocess.Popen(
        [*SPARKS, "up"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    try:
        assert up.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = up.stdout.readline()
            lines.append(line)
            if "stop:" in line:
                break
        banner = "".join(lines)
        assert f"port {taken} is taken" in banner
        assert "pub ticket.submit" in banner

        submitted = _run(["submit", "--title", "Fix the login bug", "--id", "CLI-1", "--wait", "--json"], tmp_path)
        assert submitted.returncode == 0, submitted.stderr
        kinds = [json.loads(line)["type"] for line in submitted.stdout.splitlines()[1:]]
        assert kinds == ["ticket.received", "ticket.scanned", "task.started", "task.completed", "ticket.written_back"]

        audit = _run(["audit", "manual:CLI-1"], tmp_path)
        assert audit.returncode == 0
        assert "dry_run" in audit.stdout
        missing = _run(["audit", "manual:nope"], tmp_path)
        assert missing.returncode == 1
        assert "no events for 'manual:nope'" in missing.stderr
    finally:
        up.send_signal(signal.SIGINT)
        out, err = up.communicate(timeout=30)
        blocker.close()
    assert up.returncode == 0, err
    assert "stopped cleanly" in out
    assert not (tmp_path / ".sparks" / "nats.url").exists()
    server = subprocess.run(["pgrep", "-f", str(tmp_path / ".sparks" / "nats")], capture_output=True)
    assert server.returncode == 1, "the embedded nats-server outlived sparks up"


def test_bad_config_fails_at_start_with_key_and_reason(tmp_path: Path) -> None:
    (tmp_path / "sparks.toml").write_text('[prompt_scanner]\nthreshold = "high"\n')
    result = _run(["up"], tmp_path)
    assert result.returncode == 2
    assert 'sparks.toml: prompt_scanner.threshold: expected a number, got "high"' in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_nats_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "sparks.toml").write_text(f'[nats]\nurl = "nats://127.0.0.1:{free_port()}"\n')
    result = _run(["run", "scanner"], tmp_path)
    assert result.returncode == 2
    assert "cannot connect to NATS" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_service_and_missing_title_are_usage_errors(tmp_path: Path, capsys: object) -> None:
    assert _run(["run", "nope"], tmp_path).returncode == 2
    assert main(["submit"]) == 2


def test_schemas_check_passes_on_the_checked_in_files() -> None:
    assert main(["schemas", "--check"]) == 0


def test_compose_runs_every_service_with_an_existing_command() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert "nats" in services
    assert "-js" in services["nats"]["command"]
    commands = {name: svc["command"] for name, svc in services.items() if not name.startswith("nats")}
    assert {n for n, svc in services.items() if "cluster" in svc.get("profiles", [])} == {"nats-1", "nats-2", "nats-3"}
    assert set(commands) == {"intake", "scanner", "dispatcher", "writeback"}
    parser = _parser()
    for name, argv in commands.items():
        args = parser.parse_args(argv)
        assert (args.command, args.service) == ("run", [name])
        assert services[name]["environment"]["NATS_URL"] == "nats://nats:4222"


async def test_sparks_run_with_several_services_runs_them_in_one_process(
    bus: Bus, config: Config, tmp_path: Path
) -> None:
    (tmp_path / "sparks.toml").write_text(f'[nats]\nurl = "{config.nats.url}"\n')
    proc = subprocess.Popen(
        [*SPARKS, "run", "intake", "scanner", "intake"], cwd=tmp_path, env=_env(), stderr=subprocess.PIPE, text=True
    )
    try:
        await bus.js.publish("ticket.submit", json.dumps({"title": "one process", "id": "RUN-1"}).encode())
        await wait_for(bus, lambda ev: count(ev, "ticket.scanned", "manual:RUN-1") == 1)
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "intake+scanner" in stderr  # named once each, in one process
