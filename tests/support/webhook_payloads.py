"""Real-shaped, signed webhook requests for each provider (what Linear, GitHub, GitLab and Jira send)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

SECRET = "whsec-test-canary-5e1f"


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def linear_issue_data(
    number: int = 7,
    *,
    title: str = "Fix the login bug",
    state: str = "Todo",
    updated: str = "2026-11-24T06:00:00.000Z",
    labels: tuple[str, ...] = ("bug",),
    description: str = "OAuth users get a 500",
) -> dict[str, Any]:
    return {
        "id": f"issue-{number}",
        "identifier": f"ENG-{number}",
        "title": title,
        "description": description,
        "priority": 2,
        "url": f"https://linear.app/acme/issue/ENG-{number}",
        "createdAt": "2026-11-24T05:00:00.000Z",
        "updatedAt": updated,
        "state": {"id": f"state-{state}", "name": state, "type": "unstarted"},
        "teamId": "team-1",
        "team": {"id": "team-1", "key": "ENG"},
        "projectId": "proj-1",
        "assignee": {"id": "user-1", "name": "bot-user", "email": "bot@example.com"},
        "labels": [{"id": f"label-{n}", "name": n} for n in labels],
        "labelIds": [f"label-{n}" for n in labels],
    }


def linear(
    data: dict[str, Any] | None = None, *, action: str = "create", kind: str = "Issue", at_ms: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "action": action,
            "type": kind,
            "data": data or linear_issue_data(),
            "url": "https://linear.app/acme/issue/ENG-7",
            "createdAt": "2026-11-24T06:00:00.000Z",
            "webhookTimestamp": at_ms if at_ms is not None else int(time.time() * 1000),
            "webhookId": "same-on-every-delivery",
            "organizationId": "org-1",
        }
    ).encode()
    return body, {
        "Content-Type": "application/json",
        "Linear-Signature": sign(body),
        "Linear-Delivery": str(uuid.uuid4()),
        "Linear-Event": kind,
    }


def github(action: str = "opened", number: int = 12) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "action": action,
            "issue": {
                "number": number,
                "title": "Crash when saving",
                "body": "Steps: click save",
                "state": "open" if action != "closed" else "closed",
                "labels": [{"name": "bug"}, {"name": "high"}],
                "html_url": f"https://github.com/acme/app/issues/{number}",
                "updated_at": "2026-11-24T06:00:00Z",
                "user": {"login": "octocat"},
            },
            "repository": {"full_name": "acme/app"},
            "sender": {"login": "octocat"},
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + sign(body),
    }
    return body, headers


def gitlab(iid: int = 3) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "object_kind": "issue",
            "event_type": "issue",
            "object_attributes": {
                "iid": iid,
                "title": "Broken pipeline",
                "description": "CI fails on main",
                "state": "opened",
                "action": "open",
                "updated_at": "2026-11-24 06:00:00 UTC",
                "url": f"https://gitlab.example/acme/app/-/issues/{iid}",
                "labels": [{"title": "bug"}],
            },
            "project": {"path_with_namespace": "acme/app"},
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": "Issue Hook",
        "X-Gitlab-Token": SECRET,
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        "Idempotency-Key": str(uuid.uuid4()),
    }
    return body, headers


def jira(key: str = "OPS-9") -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "timestamp": 1764000000000,
            "webhookEvent": "jira:issue_created",
            "issue": {
                "id": "10009",
                "key": key,
                "self": f"https://acme.atlassian.net/rest/api/3/issue/{key}",
                "fields": {
                    "summary": "Disk full on build host",
                    "description": {
                        "type": "doc",
                        "version": 1,
                        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Clean the cache"}]}],
                    },
                    "labels": ["ops"],
                    "priority": {"name": "Highest"},
                    "status": {"name": "To Do", "statusCategory": {"key": "new"}},
                    "project": {"key": "OPS"},
                    "updated": "2026-11-24T06:00:00.000+0000",
                },
            },
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature": "sha256=" + sign(body),
        "X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
    }
    return body, headers


def generic(title: str = "Fix the login bug") -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "title": title,
            "description": "Users can't log in",
            "repo": "acme/app",
            "risk_tier": "medium",
            "labels": ["bug", "auth"],
        }
    ).encode()
    return body, {"Content-Type": "application/json", "X-Sparks-Signature": "sha256=" + sign(body)}
