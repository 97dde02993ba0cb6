"""`sparks kpi`: replay the stream into the KPI projection and print it (table or JSON); `--watch` follows."""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from services.runtime.bus import Bus
from services.runtime.errors import ConfigError
from services.runtime.event_mapper import MAPPER
from services.runtime.stream_reader import read_stream
from services.writeback.kpi_projection import DIMENSIONS, KpiProjection

PROGRESS_EVERY = 100_000
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str | None, now: datetime) -> datetime | None:
    """`7d`, `24h`, `30m`, `90s`, `2w` -> the instant that long ago."""
    if not text:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw])", text.strip())
    if not m:
        raise ConfigError(f"--since: expected a duration such as 7d, 24h or 30m, got {text!r}")
    return now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def render(report: dict[str, Any]) -> str:
    """A table per dimension: the numbers people ask for first."""
    cols = [
        "received",
        "allowed",
        "flagged",
        "blocked",
        "started",
        "success",
        "rollback",
        "failed",
        "timeout",
        "lead p50",
        "lead p95",
        "queue p50",
        "writeback ok",
    ]
    lines = [f"{report['events']} events"]
    for title, groups in [("overall", {"all": report["overall"]})] + [
        (f"by {d}", report[f"by_{d}"]) for d in DIMENSIONS
    ]:
        lines.append(f"\n{title}")
        lines.append(f"  {'':<24}" + "".join(f"{c:>13}" for c in cols))
        for name, m in groups.items():
            values = [
                m["tickets_received"], m["scan"]["allowed"], m["scan"]["flagged"], m["scan"]["blocked"], m["tasks_started"],
                m["rates"]["success"], m["rates"]["rollback"], m["rates"]["failed"], m["rates"]["timeout"],
                m["lead_time_secs"]["p50"], m["lead_time_secs"]["p95"], m["queue_time_secs"]["p50"], m["writeback_success_rate"],
            ]  # fmt: skip
            lines.append(f"  {name[:24]:<24}" + "".join(f"{_fmt(v):>13}" for v in values))
    return "\n".join(lines)


async def kpi(bus: Bus, since: str | None, as_json: bool, watch: bool, refresh_secs: float = 5.0) -> int:
    """Replay (showing progress on stderr), print, and with `watch` keep the projection live."""
    projection = KpiProjection(parse_since(since, datetime.now(UTC)))
    started = time.monotonic()
    last_print = time.monotonic()
    seen = 0
    async for stored in read_stream(bus, follow=watch):
        seen += 1
        try:
            projection.apply(MAPPER.decode(stored.data))
        except (msgspec.DecodeError, UnicodeDecodeError):
            continue
        if seen % PROGRESS_EVERY == 0 and not watch:
            rate = seen / (time.monotonic() - started)
            print(f"sparks kpi: replayed {seen:,} events ({rate:,.0f}/s)", file=sys.stderr, flush=True)
        if watch and time.monotonic() - last_print >= refresh_secs:
            _print(projection, as_json)
            last_print = time.monotonic()
    _print(projection, as_json)
    return 0


def _print(projection: KpiProjection, as_json: bool) -> None:
    report = projection.report()
    print(json.dumps(report) if as_json else render(report), flush=True)
