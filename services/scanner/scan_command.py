"""`sparks scan`: JSON lines in (`{"id", "title", "description"}`), one decision per line out."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import IO

import msgspec

from schemas import Ticket
from services.runtime.config import PromptScannerConfig
from services.scanner.scan_decision import ScanPolicy, scan_ticket
from services.scanner.service import policy_from


class ScanInput(msgspec.Struct, frozen=True):
    """One input line; other fields are ignored."""

    id: str | int | None = None
    title: str = ""
    description: str = ""
    text: str | None = None  # the shared evaluation sets call the body `text`
    repo: str | None = None
    source: str | None = None


class ScanOutput(msgspec.Struct, frozen=True, omit_defaults=True):
    """One output line."""

    id: str | int | None
    decision: str
    score: float
    rules: list[str]
    error: str | None = None


_DECODER = msgspec.json.Decoder(ScanInput)
_ENCODER = msgspec.json.Encoder()


def scan_lines(lines: Iterable[bytes], policy: ScanPolicy) -> Iterator[ScanOutput]:
    """Scan each line; a bad line yields an `error` output (decision `error`) and the rest go on."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = _DECODER.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            yield ScanOutput(id=None, decision="error", score=0.0, rules=[], error=f"line {number}: {exc}")
            continue
        ticket = Ticket(
            source=item.source or "scan",
            external_id=str(item.id if item.id is not None else number),
            title=item.title,
            description=item.description if item.text is None else item.text,
            repo=item.repo,
        )
        result = scan_ticket(ticket, policy)
        yield ScanOutput(
            id=item.id, decision=result.decision, score=result.score, rules=[f.rule_id for f in result.findings]
        )


def run_scan(config: PromptScannerConfig, source: IO[bytes], out: IO[str], mode: str | None) -> int:
    """The command: exit 0, or 1 when any line could not be read."""
    policy = policy_from(config)
    if mode:
        policy = replace(policy, mode=mode, mode_overrides=())
    failed = False
    for output in scan_lines(source, policy):
        failed = failed or output.decision == "error"
        out.write(_ENCODER.encode(output).decode() + "\n")
    out.flush()
    if failed:
        print("sparks scan: some lines were not JSON objects; see their error fields", file=sys.stderr)
    return 1 if failed else 0
