"""`sparks submit`, `sparks audit` and `sparks tail`: the CLI's view of the stream."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import nats.errors
import nats.js.errors

from schemas import SUBMIT_SUBJECT, AnyEvent, Submission, TicketWrittenBack
from services.runtime.bus import Bus, connect
from services.runtime.config import Config
from services.runtime.errors import ConfigError, TransientError
from services.runtime.event_mapper import MAPPER
from services.runtime.event_view import render_line
from services.runtime.runner import resolve_url
from services.runtime.stream_reader import read_stream
from services.writeback import audit_index

_JSON = msgspec.json.Encoder()


@asynccontextmanager
async def open_bus(config: Config, name: str) -> AsyncIterator[Bus]:
    """A connected bus with the stream present (created if this is a fresh server)."""
    url = resolve_url(config)
    bus = Bus(await connect(config.nats, url, name=name), config.nats)
    try:
        await bus.ensure_stream()
        yield bus
    finally:
        await bus.close()


def _decode(data: bytes) -> AnyEvent | None:
    try:
        return MAPPER.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


async def submit(config: Config, submission: Submission | bytes, as_json: bool, wait: bool = False) -> int:
    """Publish one envelope to `ticket.submit`, say which ticket id it gets, and optionally follow it."""
    raw = submission if isinstance(submission, bytes) else msgspec.json.encode(submission)
    async with open_bus(config, "sparks-submit") as bus:
        try:
            ack = await bus.js.publish(SUBMIT_SUBJECT, raw, stream=bus.stream)
        except nats.errors.Error as exc:
            raise TransientError(f"the stream did not accept the ticket: {exc}") from None
    given = submission.id if isinstance(submission, Submission) else None
    ticket_id = f"manual:{given or ack.seq}"
    if as_json:
        print(_JSON.encode({"ticket_id": ticket_id, "stream_seq": ack.seq}).decode())
    else:
        print(f"submitted as {ticket_id} (stream sequence {ack.seq}); follow it with: sparks audit {ticket_id}")
    return await tail(config, as_json, until_written_back=ticket_id) if wait else 0


async def kpi(config: Config, since: str | None, as_json: bool, watch: bool) -> int:
    """`sparks kpi`."""
    from services.writeback.kpi_command import kpi as run_kpi

    async with open_bus(config, "sparks-kpi") as bus:
        return await run_kpi(bus, since, as_json, watch)


async def dlq(config: Config, action: str, seq: int | None, as_json: bool) -> int:
    """`sparks dlq list` / `sparks dlq replay SEQ`."""
    from services.runtime import dead_letters

    async with open_bus(config, "sparks-dlq") as bus:
        if action == "replay":
            if seq is None:
                raise ConfigError("dlq replay: give the sequence shown by `sparks dlq list`")
            print(await dead_letters.replay(bus, seq))
            return 0
        letters = await dead_letters.dead_letters(bus)
        for dlq_seq, record in letters:
            if as_json:
                print(_JSON.encode({"seq": dlq_seq, **msgspec.structs.asdict(record)}).decode())
            else:
                print(
                    f"{dlq_seq:>8}  {record.failed_at.isoformat(timespec='seconds')}  {record.consumer:<12} {record.subject:<18} "
                    f"delivered {record.delivered}x: {record.error[:160]}"
                )
        if not letters and not as_json:
            print("no dead letters")
        return 0


async def operator(config: Config, args: Any) -> str:
    """approve / deny / pause / resume."""
    from services.dispatcher import operator_commands

    async with open_bus(config, f"sparks-{args.command}") as bus:
        if args.command in ("pause", "resume"):
            return await operator_commands.set_paused(bus, args.command == "pause")
        approve = args.command == "approve"
        return await operator_commands.decide(bus, args.ticket_id, approve, args.by, getattr(args, "reason", ""))


async def ticket_events(bus: Bus, ticket_id: str) -> AsyncIterator[tuple[str, AnyEvent]]:
    """One ticket's events in stream order: by the audit index (direct reads), else by scanning the log."""
    seqs = await audit_index.sequences(bus, ticket_id)
    if seqs is not None:
        for seq in seqs:
            try:
                raw = await bus.js.get_msg(bus.stream, seq)
            except nats.js.errors.NotFoundError:
                continue  # aged out of the stream (max_age)
            if raw.data and (event := _decode(raw.data)) is not None and raw.subject:
                yield raw.subject, event
        return
    print("sparks: no audit index for this ticket yet (is writeback running?); scanning the log", file=sys.stderr)
    async for stored in read_stream(bus):
        event = _decode(stored.data)
        if event is not None and event.ticket_id == ticket_id:
            yield stored.subject, event


async def audit(config: Config, ticket_id: str, as_json: bool) -> int:
    """Print one ticket's events in stream order; exit 1 if the stream holds none."""
    found = 0
    async with open_bus(config, "sparks-audit") as bus:
        async for subject, event in ticket_events(bus, ticket_id):
            found += 1
            print(MAPPER.encode(event).decode() if as_json else render_line(subject, event), flush=True)
    if not found:
        print(f"sparks: no events for {ticket_id!r}; ticket ids look like manual:42 or linear:ENG-123", file=sys.stderr)
        return 1
    return 0


async def tail(config: Config, as_json: bool, until_written_back: str | None = None) -> int:
    """Follow new events until Ctrl-C (or until `until_written_back` has been written back)."""
    async with (
        open_bus(config, "sparks-tail") as bus,
        contextlib.aclosing(read_stream(bus, follow=True, new_only=until_written_back is None)) as stream,
    ):
        async for stored in stream:
            event = _decode(stored.data)
            if event is None:
                continue
            if until_written_back and event.ticket_id != until_written_back:
                continue
            print(MAPPER.encode(event).decode() if as_json else render_line(stored.subject, event), flush=True)
            if until_written_back and isinstance(event, TicketWrittenBack):
                return 0
    return 0
