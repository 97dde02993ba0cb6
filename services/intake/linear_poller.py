"""Shell: poll Linear incrementally by `updatedAt`, page by page, as the one leader among intake replicas."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from datetime import datetime, timedelta

import msgspec
import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

from services.intake.candidate import MappingRules
from services.intake.linear_issue import LinearFilters, LinearIssue, to_candidate
from services.intake.linear_queries import POLL_ISSUES
from services.intake.ticket_admission import TicketAdmission
from services.runtime.bus import Bus
from services.runtime.config import LinearConfig
from services.runtime.errors import PoisonMessage, TransientError
from services.runtime.linear_api import LinearApi
from services.runtime.logging import get_logger

CURSOR_BUCKET = "sparks_cursors"
LEASE_BUCKET = "sparks_leases"
CURSOR_KEY = "linear"
LEASE_KEY = "linear-poller"
# Re-read a little before the cursor: an update committed late must not fall between two polls.
CURSOR_OVERLAP = timedelta(seconds=60)
PERMANENT_ERROR_PAUSE_SECS = 900.0


class _PageInfo(msgspec.Struct, frozen=True):
    hasNextPage: bool
    endCursor: str | None = None


class _IssuePage(msgspec.Struct, frozen=True):
    nodes: list[LinearIssue]
    pageInfo: _PageInfo


class _PollData(msgspec.Struct, frozen=True):
    issues: _IssuePage


def poll_filter(config: LinearConfig, cursor: str | None) -> dict[str, object]:
    """The server-side IssueFilter: projects and updatedAt only; state/assignee/labels decide `active` here."""
    issue_filter: dict[str, object] = {}
    if config.project_ids:
        issue_filter["project"] = {"id": {"in": list(config.project_ids)}}
    if cursor:
        since = datetime.fromisoformat(cursor.replace("Z", "+00:00")) - CURSOR_OVERLAP
        issue_filter["updatedAt"] = {"gt": since.isoformat().replace("+00:00", "Z")}
    return issue_filter


class LinearPoller:
    """Polls while it holds the lease; the cursor moves only after every issue of the poll was admitted."""

    def __init__(
        self,
        api: LinearApi,
        admission: TicketAdmission,
        cursors: KeyValue,
        leases: KeyValue,
        config: LinearConfig,
        rules: MappingRules,
    ) -> None:
        self._api = api
        self._admission = admission
        self._cursors = cursors
        self._leases = leases
        self._config = config
        self._rules = rules
        self._filters = LinearFilters(
            config.project_ids, config.status_filter, config.assignee_filter, config.label_filter
        )
        self._me = uuid.uuid4().hex.encode()
        self._log = get_logger(service="intake", component="linear_poller")

    @classmethod
    async def open(
        cls, bus: Bus, api: LinearApi, admission: TicketAdmission, config: LinearConfig, rules: MappingRules
    ) -> LinearPoller:
        """Open the cursor and lease buckets (the lease expires when its holder stops renewing)."""
        cursors = await bus.key_value(CURSOR_BUCKET)
        leases = await bus.key_value(LEASE_BUCKET, ttl=config.leader_ttl_secs)
        return cls(api, admission, cursors, leases, config, rules)

    async def hold_lease(self) -> bool:
        """Take or renew leadership; False while another replica holds it."""
        try:
            await self._leases.create(LEASE_KEY, self._me)
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        try:
            entry = await self._leases.get(LEASE_KEY)
        except nats.js.errors.KeyNotFoundError:
            return False  # expired between our two calls; try again next round
        if entry.value != self._me:
            return False
        try:
            await self._leases.update(LEASE_KEY, self._me, last=entry.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        return True

    async def _cursor(self) -> str | None:
        try:
            entry = await self._cursors.get(CURSOR_KEY)
        except nats.js.errors.KeyNotFoundError:
            return None
        return (entry.value or b"").decode() or None

    async def poll_once(self) -> dict[str, int]:
        """One full incremental poll; returns counts by admission status."""
        cursor = await self._cursor()
        variables: dict[str, object] = {"filter": poll_filter(self._config, cursor), "first": self._config.page_size}
        counts: dict[str, int] = {}
        newest = cursor
        while True:
            data = await self._api.execute(POLL_ISSUES, variables)
            try:
                page = msgspec.convert(data, _PollData).issues
            except msgspec.ValidationError as exc:
                raise TransientError(f"Linear returned an unexpected issues page: {exc}") from None
            for issue in page.nodes:
                admitted = await self._admission.admit(to_candidate(issue, self._filters, self._rules, None, "poll"))
                counts[admitted.status] = counts.get(admitted.status, 0) + 1
                if issue.updatedAt and (newest is None or issue.updatedAt > newest):
                    newest = issue.updatedAt
            if not page.pageInfo.hasNextPage or not page.pageInfo.endCursor:
                break
            variables["after"] = page.pageInfo.endCursor
            # A long poll keeps its lease alive page by page.
            await self.hold_lease()
        if newest and newest != cursor:
            await self._cursors.put(CURSOR_KEY, newest.encode())
        return counts

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every `poll_interval_secs` (jittered ±10 %) until `stop`; errors back off, never hammer."""
        while not stop.is_set():
            pause = self._config.poll_interval_secs * random.uniform(0.9, 1.1)
            try:
                if await self.hold_lease():
                    counts = await self.poll_once()
                    self._log.info("linear_polled", **counts, requests=self._api.requests_sent)
            except PoisonMessage as exc:
                self._log.error("linear_poll_refused", error=str(exc), pause_secs=PERMANENT_ERROR_PAUSE_SECS)
                pause = max(pause, PERMANENT_ERROR_PAUSE_SECS)
            except (TransientError, nats.errors.Error) as exc:
                self._log.warning("linear_poll_failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
