"""Pure core: read a finished ghost process (exit code, output) into an outcome."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from schemas import Outcome
from schemas.task import GhostResult

_RESULT_DECODER = msgspec.json.Decoder(GhostResult)
MAX_SUMMARY_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ProcessReport:
    """What the shell observed: exit code (None if killed by timeout), bounded output tails."""

    exit_code: int | None
    timed_out: bool
    stdout_tail: bytes
    stderr_tail: bytes
    timeout_secs: float


@dataclass(frozen=True, slots=True)
class GhostVerdict:
    """The outcome the dispatcher reports."""

    outcome: Outcome
    summary: str
    pr_url: str | None = None


def _text(data: bytes) -> str | None:
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") > max(8, len(text) // 20) or "\x00" in text:
        return None
    return text


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def read_verdict(report: ProcessReport) -> GhostVerdict:
    """exit 0 = success, non-zero = rollback, timeout = timeout; a JSON last line refines, garbage fails."""
    if report.timed_out:
        return GhostVerdict("timeout", f"ghost ran past its {report.timeout_secs:g}s timeout and was killed")
    stdout = _text(report.stdout_tail)
    if stdout is None:
        return GhostVerdict("failed", "ghost output is not text (binary or corrupt); see the ghost's own logs")
    last = _last_line(stdout)
    refined: GhostResult | None = None
    if last.startswith("{"):
        try:
            refined = _RESULT_DECODER.decode(last)
        except msgspec.DecodeError as exc:
            return GhostVerdict("failed", f"ghost printed an unreadable result line: {exc}")
    if report.exit_code == 0:
        outcome: Outcome = "success"
        summary = last[:MAX_SUMMARY_CHARS] or "ghost finished without output"
    else:
        outcome = "rollback"
        stderr = _text(report.stderr_tail) or ""
        detail = _last_line(stderr) or last
        summary = f"ghost exited with status {report.exit_code}" + (f": {detail[:MAX_SUMMARY_CHARS]}" if detail else "")
    if refined is not None:
        # The ghost's own word refines the summary, but a failed exit can't claim success.
        claimable = ("success", "rollback", "failed") if report.exit_code == 0 else ("rollback", "failed")
        if refined.outcome in claimable:
            outcome = refined.outcome  # type: ignore[assignment]  # narrowed by the membership test
        summary = (refined.summary or summary)[:MAX_SUMMARY_CHARS]
        return GhostVerdict(outcome, summary, refined.pr_url)
    return GhostVerdict(outcome, summary)
