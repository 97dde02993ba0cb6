"""Pure: one event as a line a person reads (audit, tail)."""

from __future__ import annotations

from schemas import (
    AnyEvent,
    TaskCompleted,
    TaskStarted,
    TicketReceived,
    TicketRejected,
    TicketScanned,
    TicketWrittenBack,
)


def describe(event: AnyEvent) -> str:
    """The facts of one event that matter to an operator."""
    match event:
        case TicketReceived(ticket=t):
            labels = ",".join(t.labels) or "-"
            return f"{t.title!r} repo={t.repo or '-'} risk={t.risk_tier} labels={labels} rev={t.revision}"
        case TicketRejected(reason=reason):
            return f"rejected: {reason}"
        case TicketScanned(decision=d, score=s, findings=f):
            rules = ", ".join(f"{x.rule_id}{' (hidden)' if x.hidden else ''}" for x in f)
            return f"{d} score={s}" + (f" rules: {rules}" if rules else "")
        case TaskStarted(ghost=g, reason=r, task_id=tid):
            return f"ghost={g} ({r}) task={tid}"
        case TaskCompleted(outcome=o, summary=s, duration_ms=ms, pr_url=pr):
            return f"{o} in {ms} ms: {s}" + (f" pr={pr}" if pr else "")
        case TicketWrittenBack(target=tg, status=st, detail=d):
            return f"{tg} {st}: {d}"
    return ""


def render_line(subject: str, event: AnyEvent) -> str:
    """`time  subject  ticket  facts`."""
    return (
        f"{event.occurred_at.isoformat(timespec='milliseconds')}  {subject:<20} {event.ticket_id:<24} {describe(event)}"
    )
