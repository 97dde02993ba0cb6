"""Where the pipeline's CPU goes: CPU milliseconds per ticket for each service and for the broker.

Starts an embedded nats-server and the four services as processes (dry-run ghost), submits a
backlog of 1 KB tickets, waits until every consumer has drained, and reads each process's user +
system time from /proc. With `--py-spy DIR` each service runs under `py-spy record` (install it
with `pip install py-spy`) and leaves a flame graph per service in DIR.

    python bench/cpu_per_ticket.py [--tickets 3000] [--py-spy /tmp/profiles] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from services.runtime.bench_command import SERVICES, _measure, _pipeline_key, _wait_idle, _with_broker
from services.runtime.bus import Bus
from services.runtime.logging import configure_logging

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_secs(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _service_argv(name: str, profile_dir: Path | None) -> list[str]:
    argv = [sys.executable, "-m", "services.runtime.cli", "--log-level", "error", "run", name]
    if profile_dir is None:
        return argv
    # Next to this interpreter first: a venv's scripts are often not on PATH.
    spy = shutil.which("py-spy", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if spy is None:
        raise SystemExit("cpu_per_ticket: --py-spy needs the py-spy command (pip install py-spy)")
    return [spy, "record", "--rate", "200", "--output", str(profile_dir / f"{name}.svg"), "--", *argv]


def _python_child(pid: int) -> int:
    """The service's own pid: py-spy starts it as a child."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = children.read_text().split() if children.exists() else []
    return int(found[0]) if found else pid


async def _message_counts(bus: Bus) -> tuple[int, int]:
    """Messages stored in all streams, and messages delivered by all their consumers."""
    stored = delivered = 0
    for info in await bus.js.streams_info():
        stored += info.state.messages
        for consumer in await bus.js.consumers_info(info.config.name or ""):
            delivered += consumer.delivered.consumer_seq if consumer.delivered else 0
    return stored, delivered


async def measure(bus: Bus, url: str, tmp: Path, tickets: int, profile_dir: Path | None) -> dict[str, Any]:
    """CPU per ticket of each service and of the broker over one backlog."""
    env = {**os.environ, "NATS_URL": url}
    procs = {
        name: subprocess.Popen(
            _service_argv(name, profile_dir), cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for name in SERVICES
    }
    try:
        await asyncio.sleep(4.0)
        pids = {name: _python_child(proc.pid) for name, proc in procs.items()}
        broker = next(int(p) for p in Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split())
        pids["nats-server"] = broker
        before = {name: _cpu_secs(pid) for name, pid in pids.items()}
        run = await _measure(bus, "task.completed", _pipeline_key, "cpu", tickets, None, 600)
        await _wait_idle(bus)
        after = {name: _cpu_secs(pid) for name, pid in pids.items()}
        stored, delivered = await _message_counts(bus)
    finally:
        for proc in procs.values():
            # SIGINT lets py-spy write its profile; the services stop cleanly on it too.
            proc.send_signal(signal.SIGINT)
        for proc in procs.values():
            proc.wait(60)
    per_ticket = {name: round(1000 * (after[name] - before[name]) / tickets, 3) for name in pids}
    return {
        "tickets": tickets,
        "tickets_per_s": round(run["tickets_per_s"], 1),
        "cpu_ms_per_ticket": per_ticket,
        "cpu_ms_per_ticket_total": round(sum(per_ticket.values()), 3),
        # Over every stream (events and the KV buckets' streams) and every durable consumer.
        "stored_messages_per_ticket": round(stored / tickets, 2),
        "deliveries_per_ticket": round(delivered / tickets, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--py-spy", type=Path, default=None, metavar="DIR", help="record a flame graph per service")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging("warning")
    if args.py_spy:
        args.py_spy.mkdir(parents=True, exist_ok=True)
    result = await _with_broker(lambda bus, url, tmp: measure(bus, url, tmp, args.tickets, args.py_spy))
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['tickets']:,} tickets at saturation: {result['tickets_per_s']:,.0f} tickets/s")
    for name, ms in result["cpu_ms_per_ticket"].items():
        print(f"  {name:<12} {ms:6.3f} ms CPU per ticket")
    print(f"  {'total':<12} {result['cpu_ms_per_ticket_total']:6.3f} ms")
    print(
        f"per ticket: {result['stored_messages_per_ticket']} messages stored (events and KV), "
        f"{result['deliveries_per_ticket']} deliveries to consumers"
    )


if __name__ == "__main__":
    asyncio.run(main())
