"""Shell: report an outcome on a GitHub issue — one comment (found again by a hidden marker), then
close it on success or label it by outcome."""

from __future__ import annotations

import re

import httpx

from schemas import TaskCompleted
from services.runtime.config import GithubWritebackConfig
from services.runtime.errors import TransientError
from services.runtime.secrets import Secret
from services.writeback.linear_plan import comment_body
from services.writeback.linear_writer import WriteResult

_EXTERNAL_ID = re.compile(r"(?P<repo>[\w.-]+/[\w.-]+)#(?P<number>\d+)")


def marker(task_id: str) -> str:
    """Hidden in the comment body: how a retry recognises the comment it already posted."""
    return f"<!-- sparks-task:{task_id} -->"


class GithubWriter:
    """One pooled client; 5xx and rate limits are transient (redelivered later), 4xx are recorded."""

    def __init__(self, token: Secret, config: GithubWritebackConfig) -> None:
        self._config = config
        self._client = httpx.AsyncClient(
            base_url=config.api_url,
            timeout=config.timeout_secs,
            headers={
                "Authorization": f"Bearer {token.reveal()}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "sparks-intake",
            },
        )

    async def _call(self, method: str, path: str, json: object | None = None) -> httpx.Response:
        try:
            response = await self._client.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise TransientError(f"GitHub unreachable: {type(exc).__name__}") from None
        limited = response.status_code in (403, 429) and response.headers.get("x-ratelimit-remaining") == "0"
        if response.status_code >= 500 or limited or response.status_code == 429:
            raise TransientError(f"GitHub answered {response.status_code}; will retry")
        return response

    async def completed(self, event: TaskCompleted) -> WriteResult:
        """Comment once, then close (success) or label (rollback, failed, timeout); dry runs only comment."""
        m = _EXTERNAL_ID.fullmatch(event.ticket.external_id)
        if m is None:
            return WriteResult("failed", f"not a GitHub issue reference: {event.ticket.external_id!r}")
        issue = f"/repos/{m['repo']}/issues/{m['number']}"
        comments = await self._call("GET", f"{issue}/comments?per_page=100")
        if comments.status_code >= 400:
            return WriteResult("failed", f"cannot read the issue: GitHub answered {comments.status_code}")
        tag = marker(event.task_id)
        if any(tag in (c.get("body") or "") for c in comments.json()):
            done = ["comment already posted"]
        else:
            posted = await self._call("POST", f"{issue}/comments", {"body": f"{comment_body(event)}\n{tag}"})
            if posted.status_code >= 400:
                return WriteResult("failed", f"comment refused: GitHub answered {posted.status_code}")
            done = ["comment posted"]
        if event.outcome == "success" and self._config.close_on_success:
            closed = await self._call("PATCH", issue, {"state": "closed", "state_reason": "completed"})
            done.append("closed" if closed.status_code < 400 else f"not closed ({closed.status_code})")
        elif label := self._config.labels_by_outcome.get(event.outcome):
            labelled = await self._call("POST", f"{issue}/labels", {"labels": [label]})
            done.append(f"labelled {label}" if labelled.status_code < 400 else f"not labelled ({labelled.status_code})")
        failed = any(part.startswith("not ") for part in done)
        return WriteResult("failed" if failed else "done", "; ".join(done))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
