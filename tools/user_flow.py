"""`make user-flow`: the original product's end-to-end harness, against a fake Linear.

Starts the fake Linear server (Linear's real schema) and `sparks up`, sends a signed Linear webhook
for a new issue, and waits until the fake's ledger shows the issue moved to "In Progress", then to
"Done", with exactly one comment. Exits 0 on success, 1 with a clear message otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from fake_linear import FakeLinear, serve  # noqa: E402
from services.runtime.embedded_server import free_port  # noqa: E402

SECRET = "user-flow-secret"
GHOST = "import json, sys; task = json.load(sys.stdin); print(json.dumps({'outcome': 'success', 'summary': 'Fixed: ' + task['title']}))"


def say(text: str) -> None:
    print(f"user-flow: {text}", flush=True)


async def wait_until(check: object, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"user-flow: FAILED waiting for {what} ({timeout:.0f}s)")


async def main(timeout: float = 60.0) -> int:
    fake = FakeLinear()
    runner, graphql_url = await serve(fake)
    issue = fake.add_issue(101, "Fix the login redirect loop", labels=["bug"])
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "sparks.toml").write_text(
            f'[ticket_intake.linear]\napi_url = "{graphql_url}"\nstatus_filter = ["Todo", "In Progress"]\n'
            f'[ticket_intake.webhook]\nenabled = true\nbind = "127.0.0.1:{port}"\nroutes = ["linear"]\n'
            f'[dispatcher]\ndefault_ghost = "demo"\n[[dispatcher.ghosts]]\nname = "demo"\ncommand = {json.dumps([sys.executable, "-c", GHOST])}\n'
            f"[nats]\nembedded_port = {free_port()}\n"
        )
        env = {**os.environ, "SPARKS_WEBHOOK_SECRET": SECRET, "LINEAR_API_KEY": fake.api_key, "PYTHONPATH": str(ROOT)}
        env.pop("NATS_URL", None)
        say(f"fake Linear at {graphql_url}; starting sparks up")
        log_path = Path(tmp, "sparks-up.log")
        log_file = log_path.open("w")
        up = subprocess.Popen(
            [sys.executable, "-m", "services.runtime.cli", "--log-level", "warning", "up"],
            cwd=tmp, env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            async with httpx.AsyncClient() as client:
                await wait_until(lambda: up.poll() is not None or _listening(port), "the webhook server", 30)
                if up.poll() is not None:
                    raise SystemExit(f"user-flow: FAILED: sparks up exited: {log_path.read_text()[-2000:]}")
                body = json.dumps({
                    "action": "create", "type": "Issue", "data": {**issue, "labels": issue["labels"]["nodes"]},
                    "url": issue["url"], "createdAt": issue["createdAt"], "webhookTimestamp": int(time.time() * 1000),
                    "webhookId": "user-flow", "organizationId": "org-1",
                }).encode()  # fmt: skip
                signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                headers = {
                    "Content-Type": "application/json",
                    "Linear-Signature": signature,
                    "Linear-Delivery": str(uuid.uuid4()),
                }
                response = await client.post(f"http://127.0.0.1:{port}/webhook/linear", content=body, headers=headers)
                say(f"webhook answered {response.status_code} {response.text}")
                if response.status_code != 202:
                    raise SystemExit("user-flow: FAILED: the signed webhook was not accepted")
            await wait_until(
                lambda: "In Progress" in fake.state_history("ENG-101"), 'the move to "In Progress"', timeout
            )
            say('issue moved to "In Progress"')
            await wait_until(lambda: "Done" in fake.state_history("ENG-101"), 'the move to "Done"', timeout)
            say('issue moved to "Done"')
            await wait_until(lambda: len(fake.comments_on("ENG-101")) >= 1, "the comment", timeout)
            await asyncio.sleep(1.0)  # a second comment would show up now if writeback were not idempotent
            comments = fake.comments_on("ENG-101")
            if len(comments) != 1 or fake.state_history("ENG-101") != ["In Progress", "Done"]:
                raise SystemExit(f"user-flow: FAILED: ledger is {fake.ledger}")
            say(f"one comment posted:\n{comments[0]}")
            say("OK")
            return 0
        finally:
            up.send_signal(signal.SIGINT)
            try:
                up.wait(20)
            except subprocess.TimeoutExpired:
                up.kill()
                up.wait()
            log_file.close()
            await runner.cleanup()


def _listening(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
