"""`sparks kpi` numbers against a known synthetic log: exact counts, rates and percentiles."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta

from schemas import AnyEvent, TaskCompleted, TaskStarted, Ticket, TicketReceived, TicketScanned, TicketWrittenBack
from services.runtime.bus import Bus
from services.writeback.kpi_command import kpi, parse_since
from services.writeback.kpi_projection import KpiProjection

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def story(
    n: int,
    *,
    source: str,
    repo: str,
    risk: str,
    ghost: str,
    outcome: str,
    queue: int,
    run: int,
    wb: str = "done",
    decision: str = "allow",
) -> list[AnyEvent]:
    t = Ticket(source=source, external_id=str(n), title=f"t{n}", repo=repo, risk_tier=risk)  # type: ignore[arg-type]
    at = T0 + timedelta(minutes=n)
    tid = f"task-{n}"
    common = {"ticket_id": t.ticket_id}
    events: list[AnyEvent] = [
        TicketReceived(event_id=f"r{n}", occurred_at=at, causation_id=None, ticket=t, **common),
        TicketScanned(
            event_id=f"s{n}", occurred_at=at, causation_id=f"r{n}", ticket=t, decision=decision, score=0.0, **common
        ),  # type: ignore[arg-type]
    ]
    if decision != "block":
        events.append(
            TaskStarted(
                event_id=f"st{n}",
                occurred_at=at + timedelta(seconds=queue),
                causation_id=f"s{n}",
                ticket=t,
                task_id=tid,
                ghost=ghost,
                reason="r",
                **common,
            )
        )
    done_at = at + timedelta(seconds=queue + run)
    events.append(
        TaskCompleted(
            event_id=f"c{n}",
            occurred_at=done_at,
            causation_id="x",
            ticket=t,
            task_id=tid,
            ghost=None if decision == "block" else ghost,
            outcome=outcome,
            summary="s",
            **common,
        )
    )  # type: ignore[arg-type]
    events.append(
        TicketWrittenBack(
            event_id=f"w{n}",
            occurred_at=done_at,
            causation_id=f"c{n}",
            target="log",
            status=wb,
            detail="d",
            outcome=outcome,
            task_id=tid,
            **common,
        )
    )  # type: ignore[arg-type]
    return events


SYNTHETIC = [
    *story(1, source="linear", repo="acme/app", risk="low", ghost="coder", outcome="success", queue=10, run=50),
    *story(2, source="linear", repo="acme/app", risk="high", ghost="coder", outcome="rollback", queue=20, run=100),
    *story(3, source="github", repo="acme/api", risk="low", ghost="writer", outcome="success", queue=30, run=150),
    *story(
        4,
        source="github",
        repo="acme/api",
        risk="low",
        ghost="coder",
        outcome="timeout",
        queue=40,
        run=200,
        wb="failed",
    ),
    *story(
        5,
        source="manual",
        repo="acme/app",
        risk="medium",
        ghost="coder",
        outcome="rejected",
        queue=0,
        run=0,
        decision="block",
    ),
]


def test_known_log_gives_exact_numbers() -> None:
    projection = KpiProjection()
    for event in SYNTHETIC:
        projection.apply(event)
    report = projection.report()
    overall = report["overall"]
    assert overall["tickets_received"] == 5
    assert overall["scan"] == {"allowed": 4, "flagged": 0, "blocked": 1}
    assert overall["tasks_started"] == 4
    assert overall["rates"] == {"success": 0.5, "rollback": 0.25, "failed": 0.0, "timeout": 0.25}
    assert overall["lead_time_secs"] == {"p50": 120.0, "p95": 240.0}  # leads 60, 120, 180, 240
    assert overall["queue_time_secs"] == {"p50": 20.0, "p95": 40.0}
    assert overall["mean_time_to_fix_secs"] == 120.0  # successes: 60 and 180
    assert overall["writeback_success_rate"] == 0.8
    coder = report["by_ghost"]["coder"]
    assert coder["tasks_started"] == 3
    assert coder["rates"]["success"] == round(1 / 3, 4)
    assert report["by_source"]["github"]["rates"]["timeout"] == 0.5
    assert report["by_risk_tier"]["low"]["tickets_received"] == 3
    assert report["by_repo"]["acme/app"]["scan"]["blocked"] == 1


def test_since_filters_by_event_time() -> None:
    projection = KpiProjection(since=T0 + timedelta(minutes=4))
    for event in SYNTHETIC:
        projection.apply(event)
    assert projection.report()["overall"]["tickets_received"] == 2


async def test_kpi_command_replays_the_stream(bus: Bus) -> None:
    for event in SYNTHETIC:
        await bus.publish(event)
    out = io.StringIO()
    with redirect_stdout(out):
        assert await kpi(bus, since=None, as_json=True, watch=False) == 0
    report = json.loads(out.getvalue())
    assert report["events"] == len(SYNTHETIC)
    assert report["overall"]["rates"]["success"] == 0.5


def test_since_parsing() -> None:
    assert parse_since("7d", T0) == T0 - timedelta(days=7)
    assert parse_since(None, T0) is None
    import pytest

    from services.runtime.errors import ConfigError

    with pytest.raises(ConfigError, match="7d, 24h or 30m"):
        parse_since("seven days", T0)
