"""Shell: run a task on a ghost. `command` runs a process (no shell); `dry-run` only says what it would do."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import nats.errors
from nats.aio.client import Client as NatsClient

from schemas.task import AutonomousTask, GhostResult
from services.dispatcher.ghost_output import GhostVerdict, ProcessReport, read_verdict
from services.runtime.config import GhostConfig
from services.runtime.secrets import SECRET_ENV

_TASK_ENCODER = msgspec.json.Encoder()
KILL_GRACE_SECS = 5.0


@dataclass(frozen=True, slots=True)
class Execution:
    """A verdict and how long the run took."""

    verdict: GhostVerdict
    duration_ms: int


def dry_run(task: AutonomousTask) -> GhostVerdict:
    """What the built-in dry-run ghost reports: the plan, nothing executed."""
    return GhostVerdict(
        "dry_run",
        f"dry run: would have run ghost {task.ghost!r} on {task.repo or 'no repo'} "
        f"(risk {task.risk_tier}) for {task.title!r}; configure a ghost in [[dispatcher.ghosts]] to do real work",
    )


def render_argv(template: list[str], values: Mapping[str, str]) -> list[str]:
    """Fill `{task_file}`-style placeholders; each template item stays exactly one argument."""
    argv = []
    for item in template:
        for key, value in values.items():
            item = item.replace("{" + key + "}", value)
        argv.append(item)
    return argv


async def _read_tail(stream: asyncio.StreamReader, limit: int) -> bytes:
    # Keep only the last `limit` bytes: a ghost printing gigabytes must not fill our memory.
    tail = bytearray()
    while chunk := await stream.read(65_536):
        tail += chunk
        if len(tail) > limit:
            del tail[: len(tail) - limit]
    return bytes(tail)


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), KILL_GRACE_SECS)
            # The leader is gone; SIGKILL the group anyway so no child outlives it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            return
        except TimeoutError:
            continue


def _die_with_parent() -> None:
    # Linux: the ghost gets SIGKILL if its dispatcher dies (kill -9 included), so a crashed
    # dispatcher leaves no orphan still working on a task that will be retried elsewhere.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


async def run_command(task: AutonomousTask, ghost: GhostConfig, work_root: Path) -> ProcessReport:
    """Run the ghost's argv in its own process group and working directory; bounded output, hard timeout."""
    work_dir = (work_root / task.task_id).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    task_json = _TASK_ENCODER.encode(task)
    task_file = work_dir / "task.json"
    task_file.write_bytes(task_json)
    values = {"task_file": str(task_file), "task_id": task.task_id, "work_dir": str(work_dir), "repo": task.repo or ""}
    env = {
        **os.environ,
        "SPARKS_TASK_ID": task.task_id,
        "SPARKS_TICKET_ID": task.ticket_id,
        "SPARKS_TASK_FILE": str(task_file),
        "SPARKS_REPO": task.repo or "",
        "SPARKS_RISK_TIER": task.risk_tier,
        "SPARKS_GHOST": ghost.name,
    }
    # Our own secrets are not the ghost's business.
    for name in SECRET_ENV.values():
        env.pop(name, None)
    for name in [n for n in env if n.startswith("SPARKS_WEBHOOK_SECRET")]:
        env.pop(name)
    try:
        proc = await asyncio.create_subprocess_exec(
            *render_argv(ghost.command, values),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=work_dir,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    except OSError as exc:
        return ProcessReport(
            127, False, b"", f"cannot start ghost command {ghost.command[0]!r}: {exc}".encode(), ghost.timeout_secs
        )
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    readers = asyncio.gather(
        _read_tail(proc.stdout, ghost.max_output_bytes), _read_tail(proc.stderr, ghost.max_output_bytes)
    )

    async def feed_stdin() -> None:
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(task_json)
            await proc.stdin.drain()
        proc.stdin.close()

    timed_out = False
    try:
        await asyncio.wait_for(asyncio.gather(feed_stdin(), proc.wait()), ghost.timeout_secs)
    except TimeoutError:
        timed_out = True
        await _kill_group(proc)
    except asyncio.CancelledError:
        await _kill_group(proc)
        readers.cancel()
        raise
    try:
        stdout, stderr = await asyncio.wait_for(readers, KILL_GRACE_SECS)
    except TimeoutError:
        # A grandchild kept the pipes open after the leader exited: kill the group and move on.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = b"", b"ghost's children kept its output open after it exited"
    return ProcessReport(None if timed_out else proc.returncode, timed_out, stdout, stderr, ghost.timeout_secs)


_RESULT = msgspec.json.Decoder(GhostResult)
_ALLOWED = ("success", "rollback", "failed")


def verdict_from_reply(body: bytes, origin: str) -> GhostVerdict:
    """A JSON `{"outcome", "summary", "pr_url"}` reply from an http or nats ghost; anything else fails."""
    try:
        result = _RESULT.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return GhostVerdict("failed", f"{origin} answered with an unreadable result: {exc}")
    if result.outcome not in _ALLOWED:
        return GhostVerdict("failed", f"{origin} answered without a valid outcome (success, rollback or failed)")
    return GhostVerdict(result.outcome, (result.summary or "")[:2000], result.pr_url)


async def run_http(task: AutonomousTask, ghost: GhostConfig, client: httpx.AsyncClient) -> GhostVerdict:
    """POST the task; retry 5xx and network errors only, with backoff; time out after `timeout_secs`."""
    body = _TASK_ENCODER.encode(task)
    last = ""
    for attempt in range(ghost.http_retries + 1):
        try:
            response = await client.post(
                ghost.url or "", content=body, headers={"Content-Type": "application/json"}, timeout=ghost.timeout_secs
            )
        except httpx.TimeoutException:
            return GhostVerdict("timeout", f"ghost at {ghost.url} did not answer within {ghost.timeout_secs:g}s")
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        else:
            if response.status_code < 500:
                if response.is_success:
                    return verdict_from_reply(response.content, f"ghost at {ghost.url}")
                return GhostVerdict("failed", f"ghost at {ghost.url} refused the task with {response.status_code}")
            last = f"HTTP {response.status_code}"
        await asyncio.sleep(min(0.5 * 2**attempt, 10.0))
    return GhostVerdict("failed", f"ghost at {ghost.url} kept failing ({last}) after {ghost.http_retries + 1} attempts")


async def run_nats(task: AutonomousTask, ghost: GhostConfig, nc: NatsClient) -> GhostVerdict:
    """A request on `ghost.<name>.run`, so ghost workers in any language can serve tasks."""
    subject = f"ghost.{ghost.name}.run"
    try:
        reply = await nc.request(subject, _TASK_ENCODER.encode(task), timeout=ghost.timeout_secs)
    except nats.errors.NoRespondersError:
        return GhostVerdict("failed", f"no ghost worker listens on {subject}")
    except nats.errors.TimeoutError:
        return GhostVerdict("timeout", f"no answer on {subject} within {ghost.timeout_secs:g}s")
    return verdict_from_reply(reply.data, f"ghost worker on {subject}")


@dataclass(frozen=True, slots=True)
class ExecutorContext:
    """Clients the executors share: built once per dispatcher, never per task."""

    work_root: Path
    http: httpx.AsyncClient
    nc: NatsClient


async def execute(task: AutonomousTask, ghost: GhostConfig | None, ctx: ExecutorContext) -> Execution:
    """Run `task` on `ghost` (None = the built-in dry-run ghost) and time it."""
    started = time.monotonic()
    if ghost is None or ghost.executor == "dry-run":
        verdict = dry_run(task)
    elif ghost.executor == "http":
        verdict = await run_http(task, ghost, ctx.http)
    elif ghost.executor == "nats":
        verdict = await run_nats(task, ghost, ctx.nc)
    else:
        verdict = read_verdict(await run_command(task, ghost, ctx.work_root))
    return Execution(verdict, int((time.monotonic() - started) * 1000))
