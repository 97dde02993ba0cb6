"""A fake Linear GraphQL API that executes Linear's real schema (graphql-core), for tests and `make user-flow`.

It answers only what the schema allows: an invalid document is refused exactly as the real API
refuses it. It keeps a ledger of the mutations it saw, and can be told to rate-limit or fail.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web
from graphql import GraphQLSchema, build_schema, graphql

REPO_ROOT = Path(__file__).resolve().parents[2]
# Linear's public schema (MIT, see linear/LICENSE), kept in the repository so a fresh clone can run
# the tests; a test checks it is identical to the reference copy in ../shared wherever that exists.
SCHEMA_PATH = Path(__file__).parent / "linear" / "schema.graphql"
REFERENCE_SCHEMA_PATH = REPO_ROOT.parent / "shared" / "linear" / "schema.graphql"
WINDOW_LIMIT = 1500


@cache
def linear_schema() -> GraphQLSchema:
    """Linear's public schema (built once per process: about a second)."""
    return build_schema(SCHEMA_PATH.read_text())


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


TEAM = {"id": "team-1", "key": "ENG", "name": "Engineering"}
STATES = [
    {"id": "state-backlog", "name": "Backlog", "type": "backlog", "position": 0.0},
    {"id": "state-todo", "name": "Todo", "type": "unstarted", "position": 1.0},
    {"id": "state-progress", "name": "In Progress", "type": "started", "position": 2.0},
    {"id": "state-review", "name": "In Review", "type": "started", "position": 3.0},
    {"id": "state-done", "name": "Done", "type": "completed", "position": 4.0},
    {"id": "state-canceled", "name": "Canceled", "type": "canceled", "position": 5.0},
]


@dataclass
class FakeLinear:
    """In-memory issues, a mutation ledger, and switches for rate limits and failures."""

    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    ledger: list[tuple[str, str, str]] = field(default_factory=list)
    requests: int = 0
    documents: list[str] = field(default_factory=list)
    _ratelimited: int = 0
    _ratelimit_reset_secs: float = 1.0
    _failures: list[int] = field(default_factory=list)
    _failing_documents: list[tuple[str, list[int]]] = field(default_factory=list)
    _stalls: int = 0
    _stall_secs: float = 0.0
    window_limit: int = WINDOW_LIMIT
    window_remaining: int = WINDOW_LIMIT
    _outage_until: float = 0.0
    _outage_stall_secs: float = 0.0
    outage_answers: collections.Counter[str] = field(default_factory=collections.Counter)
    api_key: str = "lin_api_fake"

    # --- arranging the world --------------------------------------------------------------
    def add_issue(
        self, number: int, title: str, *, state: str = "Todo", project: str = "proj-1", **extra: Any
    ) -> dict[str, Any]:
        """Create an issue ENG-<number> the way Linear would show it."""
        ident = f"ENG-{number}"
        issue = {
            "id": f"issue-{number}",
            "identifier": ident,
            "title": title,
            "description": extra.pop("description", f"Details of {ident}"),
            "priority": float(extra.pop("priority", 3)),
            "url": f"https://linear.example/issue/{ident}",
            "createdAt": _iso(time.time()),
            "updatedAt": extra.pop("updatedAt", _iso(time.time())),
            "state": dict(self._state(state)),
            "team": TEAM,
            "project": {"id": project, "name": project},
            "assignee": extra.pop("assignee", None),
            "labels": {"nodes": [{"id": f"label-{n}", "name": n} for n in extra.pop("labels", [])]},
        }
        issue.update(extra)
        self.issues[issue["id"]] = issue
        return issue

    def touch(self, issue_id: str, **changes: Any) -> dict[str, Any]:
        """Edit an issue as a person would (bumps updatedAt)."""
        issue = self.issues[issue_id]
        if "state" in changes:
            issue["state"] = dict(self._state(changes.pop("state")))
        issue.update(changes)
        issue["updatedAt"] = _iso(time.time())
        return issue

    def ratelimit_next(self, count: int, reset_in_secs: float = 1.0) -> None:
        """Answer the next `count` requests with Linear's RATELIMITED error (HTTP 400)."""
        self._ratelimited, self._ratelimit_reset_secs = count, reset_in_secs

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these HTTP statuses (e.g. 500, 502)."""
        self._failures.extend(statuses)

    def fail_when(self, text: str, *statuses: int) -> None:
        """Answer the next requests whose document contains `text` (e.g. "issueUpdate") with these statuses."""
        self._failing_documents.append((text, list(statuses)))

    def stall_next(self, count: int, secs: float) -> None:
        """Hold the next `count` requests for `secs` before answering (client timeouts)."""
        self._stalls, self._stall_secs = count, secs

    def outage(self, secs: float, stall_secs: float) -> None:
        """For `secs`, answer every request with trouble in turn: 500, a stall of `stall_secs`
        (a client timeout), RATELIMITED, 502. `outage_answers` counts what was served."""
        self._outage_until = time.monotonic() + secs
        self._outage_stall_secs = stall_secs

    async def _outage_answer(self) -> web.Response | None:
        if time.monotonic() >= self._outage_until:
            return None
        kind = ("500", "stall", "ratelimited", "502")[sum(self.outage_answers.values()) % 4]
        self.outage_answers[kind] += 1
        if kind == "stall":
            await asyncio.sleep(self._outage_stall_secs)
            return web.Response(status=504, text="gateway timeout")
        if kind == "ratelimited":
            headers = self._headers()
            headers["X-RateLimit-Requests-Remaining"] = "0"
            headers["X-RateLimit-Requests-Reset"] = str(int((time.time() + 0.5) * 1000))
            return _errors(400, "Rate limit exceeded", "RATELIMITED", headers)
        return web.Response(status=int(kind), text="upstream trouble")

    def _state(self, name: str) -> dict[str, Any]:
        return next(s for s in STATES if s["name"] == name)

    def state_history(self, identifier: str) -> list[str]:
        """The state names the API was asked to move `identifier` to, in order."""
        return [value for kind, ident, value in self.ledger if kind == "state" and ident == identifier]

    def comments_on(self, identifier: str) -> list[str]:
        """Bodies of the comments created on `identifier`."""
        return [value for kind, ident, value in self.ledger if kind == "comment" and ident == identifier]

    # --- resolvers (root fields of Linear's schema) ----------------------------------------
    def issues_resolver(self, _info: Any, **args: Any) -> dict[str, Any]:
        nodes = sorted(self.issues.values(), key=lambda i: (i["updatedAt"], i["id"]))
        flt = args.get("filter") or {}
        if ids := flt.get("project", {}).get("id", {}).get("in"):
            nodes = [n for n in nodes if n["project"]["id"] in ids]
        if names := flt.get("state", {}).get("name", {}).get("in"):
            nodes = [n for n in nodes if n["state"]["name"] in names]
        updated = flt.get("updatedAt", {})
        if gt := updated.get("gt"):
            nodes = [n for n in nodes if n["updatedAt"] > _normal(gt)]
        if after := args.get("after"):
            ids_in_order = [n["id"] for n in nodes]
            nodes = nodes[ids_in_order.index(after) + 1 :] if after in ids_in_order else []
        first = min(args.get("first") or 50, 250)
        page = nodes[:first]
        has_next = len(nodes) > first
        return {
            "nodes": page,
            "pageInfo": {
                "hasNextPage": has_next,
                "endCursor": page[-1]["id"] if page else None,
                "hasPreviousPage": False,
                "startCursor": page[0]["id"] if page else None,
            },
        }

    def issue_resolver(self, _info: Any, id: str) -> dict[str, Any]:
        found = self.issues.get(id) or next((i for i in self.issues.values() if i["identifier"] == id), None)
        if found is None:
            raise _ApiError("Entity not found: Issue", "INPUT_ERROR")
        return {**found, "team": {**TEAM, "states": {"nodes": STATES}}}

    def workflow_states_resolver(self, _info: Any, **_args: Any) -> dict[str, Any]:
        return {"nodes": [{**s, "team": TEAM} for s in STATES], "pageInfo": {"hasNextPage": False}}

    def issue_update_resolver(self, _info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        issue = self.issue_resolver(_info, id)
        stored = self.issues[issue["id"]]
        if "stateId" in input:
            state = next((s for s in STATES if s["id"] == input["stateId"]), None)
            if state is None:
                raise _ApiError("Entity not found: WorkflowState", "INPUT_ERROR")
            stored["state"] = dict(state)
            stored["updatedAt"] = _iso(time.time())
            self.ledger.append(("state", stored["identifier"], state["name"]))
        return {"success": True, "issue": stored, "lastSyncId": float(len(self.ledger))}

    def comment_resolver(self, _info: Any, id: str | None = None, **_args: Any) -> dict[str, Any]:
        if id not in self.comments:
            raise _ApiError("Entity not found: Comment", "INPUT_ERROR")
        return self.comments[id]

    def comment_create_resolver(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        issue = self.issue_resolver(_info, input["issueId"])
        comment_id = input.get("id") or f"comment-{len(self.comments) + 1}"
        if comment_id in self.comments:
            raise _ApiError("Entity already exists: Comment", "INPUT_ERROR")
        comment = {"id": comment_id, "body": input["body"], "issue": issue, "createdAt": _iso(time.time())}
        self.comments[comment_id] = comment
        self.ledger.append(("comment", issue["identifier"], input["body"]))
        return {"success": True, "comment": comment, "lastSyncId": float(len(self.ledger))}

    # --- HTTP ------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        reset_ms = int((time.time() + 3600) * 1000)
        return {
            "X-RateLimit-Requests-Limit": str(self.window_limit),
            "X-RateLimit-Requests-Remaining": str(max(self.window_remaining, 0)),
            "X-RateLimit-Requests-Reset": str(reset_ms),
        }

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.window_remaining -= 1
        if self._stalls:
            self._stalls -= 1
            await asyncio.sleep(self._stall_secs)
        if self._failures:
            return web.Response(status=self._failures.pop(0), text="upstream trouble")
        if (trouble := await self._outage_answer()) is not None:
            return trouble
        if request.headers.get("Authorization") != self.api_key:
            return _errors(400, "Authentication required, not authenticated", "AUTHENTICATION_ERROR", self._headers())
        if self._ratelimited:
            self._ratelimited -= 1
            headers = self._headers()
            headers["X-RateLimit-Requests-Remaining"] = "0"
            headers["X-RateLimit-Requests-Reset"] = str(int((time.time() + self._ratelimit_reset_secs) * 1000))
            return _errors(400, "Rate limit exceeded", "RATELIMITED", headers)
        body = await request.json()
        for text, statuses in self._failing_documents:
            if text in body["query"] and statuses:
                return web.Response(status=statuses.pop(0), text="upstream trouble")
        self.documents.append(body["query"])
        root = _Root(self)
        result = await graphql(linear_schema(), body["query"], root_value=root, variable_values=body.get("variables"))
        payload: dict[str, Any] = {"data": result.data}
        status = 200
        if result.errors:
            codes = [getattr(e.original_error, "code", "GRAPHQL_VALIDATION_FAILED") for e in result.errors]
            payload["errors"] = [
                {"message": e.message, "extensions": {"code": c}} for e, c in zip(result.errors, codes, strict=True)
            ]
            status = 400 if result.data is None else 200
        return web.json_response(payload, status=status, headers=self._headers())

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/graphql", self.handle)
        return app


class _ApiError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class _Root:
    """Root value: graphql-core calls these by the schema's field names."""

    def __init__(self, fake: FakeLinear) -> None:
        self.issues = fake.issues_resolver
        self.issue = fake.issue_resolver
        self.workflowStates = fake.workflow_states_resolver
        self.issueUpdate = fake.issue_update_resolver
        self.commentCreate = fake.comment_create_resolver
        self.comment = fake.comment_resolver


def _normal(ts: str) -> str:
    # Our filter values may carry +00:00 or microseconds; stored values are millisecond Z strings.
    from datetime import datetime

    parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return _iso(parsed.timestamp())


def _errors(status: int, message: str, code: str, headers: dict[str, str]) -> web.Response:
    return web.json_response(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status=status, headers=headers
    )


async def serve(fake: FakeLinear, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, str]:
    """Start the fake on host:port (0 = free port); returns the runner and the GraphQL URL."""
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{bound}/graphql"
