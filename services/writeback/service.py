"""Writeback shell: task events -> the ticket's source (Linear, callback URL, log) -> written-back events."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, datetime

from schemas import Event, TaskCompleted, TaskStarted, TicketProgressWritten, WritebackStatus, subject_of
from services.runtime.bus import Bus, ConsumerSpec
from services.runtime.config import Config
from services.runtime.consumer import Handler, Inbound
from services.runtime.errors import PoisonMessage, TransientError
from services.runtime.event_mapper import MAPPER, derived_event_id
from services.runtime.linear_api import LinearApi
from services.runtime.logging import get_logger, register_secret
from services.runtime.secrets import SecretStore, environment_with_dotenv
from services.writeback.callback_client import CallbackClient
from services.writeback.github_writer import GithubWriter
from services.writeback.linear_writer import LinearWriter, WriteResult
from services.writeback.write_order import WriteOrder
from services.writeback.writeback_plan import Target, callback_payload, targets_for, written_back


async def build_handler(bus: Bus, config: Config, resources: AsyncExitStack) -> Handler:
    """One `ticket.written_back` per target of each completed task; Linear also hears when work starts."""
    store = SecretStore(environment_with_dotenv())
    secret = store.get("webhook.secret", config.ticket_intake.webhook.secret)
    callbacks = CallbackClient(secret, config.writeback.callback_timeout_secs, config.writeback.callback_retries)
    resources.push_async_callback(callbacks.aclose)
    lin = config.ticket_intake.linear
    # Longer than one start write can take with all its retries, so a live writer is never overtaken.
    order = await WriteOrder.open(bus, stale_after=(lin.max_retries + 1) * lin.request_timeout_secs + 60.0)
    linear: LinearWriter | None = None
    if (key := store.get("linear.api_key")) is not None:
        register_secret(key.reveal())
        api = LinearApi(lin.api_url, key, timeout=lin.request_timeout_secs, max_retries=lin.max_retries)
        resources.push_async_callback(api.aclose)
        linear = LinearWriter(api, config.writeback.linear)
    github: GithubWriter | None = None
    if (token := store.get("github.token")) is not None:
        register_secret(token.reveal())
        github = GithubWriter(token, config.writeback.github)
        resources.push_async_callback(github.aclose)
    log = get_logger(service="writeback")

    async def on_started(msg: Inbound, started: TaskStarted) -> None:
        if started.ticket.source != "linear" or linear is None:
            return
        if not await order.begin_start(started.task_id):
            result = WriteResult("skipped", "skipped: the outcome is already being written, so not moved back")
        else:
            try:
                # Heartbeats: a redelivery while this write is still going would skip and release the mark.
                async with msg.heartbeat():
                    result = await linear.started(started)
            except TransientError:
                await order.end_start(started.task_id, written=False)
                raise
        await bus.publish(
            TicketProgressWritten(
                event_id=derived_event_id(started.event_id, "writeback.linear"),
                ticket_id=started.ticket_id,
                occurred_at=datetime.now(UTC),
                causation_id=started.event_id,
                target="linear",
                status=result.status,
                detail=result.detail,
                task_id=started.task_id,
            )
        )
        # After the event: a crash in between replays the same (deduplicated) event, never a different one.
        await order.end_start(started.task_id, written=result.status == "done")

    async def on_completed(msg: Inbound, completed: TaskCompleted) -> None:
        for target in targets_for(completed):
            status: WritebackStatus
            if target.kind == "callback" and target.url:
                async with msg.heartbeat():
                    ok, detail = await callbacks.deliver(target.url, callback_payload(completed))
                status = "done" if ok else "failed"
            elif target.kind == "linear" and linear is not None:
                async with msg.heartbeat():
                    await order.begin_outcome(completed.task_id)
                    result = await linear.completed(completed)
                status, detail = result.status, result.detail
            elif target.kind == "github" and github is not None:
                async with msg.heartbeat():
                    result = await github.completed(completed)
                status, detail = result.status, result.detail
            elif target.kind in ("linear", "github"):
                key = "LINEAR_API_KEY" if target.kind == "linear" else "GITHUB_TOKEN"
                status, detail = "failed", f"{key} is not set: nothing was written to {target.kind}"
            else:
                status, detail = "done", f"outcome {completed.outcome} recorded in the log"
            event = written_back(completed, Target(target.kind, target.url), status, detail, datetime.now(UTC))
            await bus.publish(event)
            log.info(
                "ticket.written_back",
                ticket_id=event.ticket_id,
                event_id=event.event_id,
                target=target.kind,
                status=status,
            )

    async def handle(msg: Inbound) -> None:
        event = MAPPER.decode_as(msg.data, Event)
        if isinstance(event, TaskStarted):
            await on_started(msg, event)
        elif isinstance(event, TaskCompleted):
            await on_completed(msg, event)
        else:
            raise PoisonMessage(f"writeback does not handle {type(event).__name__}")

    return handle


CONSUMER = ConsumerSpec(durable="writeback", filter_subjects=(subject_of(TaskStarted), subject_of(TaskCompleted)))
