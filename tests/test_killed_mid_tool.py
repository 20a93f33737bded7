"""A server process killed (SIGKILL) in the middle of an approved send: DocuSign created the envelope but the
answer never came back. The next process sweeps the lost run, marks its audit row `interrupted`, looks the
envelope up by its `dsa_request_id`, and answers the tool call with what is known; the next turn runs on a
thread with no unanswered tool call, and nothing is sent twice. Real processes, real emulator over HTTP (one
that outlives the killed server, as DocuSign does), real Postgres and Redis."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from api.auth import issue_token
from docusign_agent.settings import Settings
from emulator.standalone import build_standalone_app
from tests.api_helpers import ServerProcess, await_until
from tests.conftest import DatabaseFactory
from tests.servers import ServerThread
from tests.test_api_v1 import pdf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def docusign() -> Iterator[ServerThread]:
    with ServerThread(build_standalone_app()) as server:
        yield server


def say(text: str) -> dict[str, Any]:
    return {"messages": [{"type": "human", "content": text}]}


def audit_rows(url: str, thread_id: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT operation, status, tool_call_id, envelope_id, error_message FROM audit_log "
                            "WHERE thread_id = %s AND operation = 'send_document' ORDER BY id",
                            (thread_id,)).fetchall()


async def test_send_killed_mid_call_is_recovered_not_repeated(
        docusign: ServerThread, settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str,
        tmp_path: Path) -> None:
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL: the processes share run events through Redis")
    url = db_factories[main_backend].create()
    emulator = f"{docusign.url}/_emulator"
    env = {"DATABASE_URL": url, "REDIS_URL": os.environ["REDIS_URL"], "AUTH_JWT_SECRET": str(settings.auth_jwt_secret),
           "DATA_DIR": str(tmp_path / "data"), "DOCUSIGN_EMULATOR_URL": emulator, "LOG_LEVEL": "WARNING"}
    user = uuid.uuid4()
    headers = {"Authorization": f"Bearer {issue_token(settings, user, f'killed-{user.hex[:6]}@example.com')}"}
    name = f"contract-{uuid.uuid4().hex[:6]}.pdf"
    subject = f"Please sign: {name}"

    def envelopes() -> list[Any]:  # what DocuSign has, whatever our servers believe
        return [e for e in docusign.app.state.emulator.state.envelopes.values() if e.email_subject == subject]

    first = ServerProcess(env).start()
    second: ServerProcess | None = None
    try:
        from langgraph_sdk import get_client

        async with httpx.AsyncClient(base_url=first.url, headers=headers, timeout=60) as http:
            upload = await http.post("/v1/documents", files={"file": (name, pdf("Master Services Agreement"),
                                                                        "application/pdf")})
            assert upload.status_code == 201, upload.text
        client = get_client(url=first.url, headers=headers, timeout=60)
        tid = (await client.threads.create())["thread_id"]
        stopped = await client.runs.wait(tid, "agent", input=say(f"send {name} to Bob Smith bob@example.com"))
        assert stopped["__interrupt__"][0]["value"]["action_requests"][0]["name"] == "send_document"

        # DocuSign creates the envelope, but its answer takes ten minutes: the call is in flight when we kill.
        fault = httpx.post(f"{emulator}/faults", json={"route": r"POST /restapi/v2\.1/accounts/[^/]+/envelopes$",
                                                       "kind": "timeout", "after": True, "latency_ms": 600_000,
                                                       "count": 1}, timeout=30)
        assert fault.status_code == 201, fault.text
        run = await client.runs.create(tid, "agent", command={"resume": {"decisions": [{"type": "approve"}]}})
        await await_until(lambda: len(envelopes()) == 1 and audit_rows(url, tid), timeout=120)
        (operation, status, call_id, _, _), = audit_rows(url, tid)
        assert status == "started"
        first.kill()  # SIGKILL, mid-tool

        second = ServerProcess(env).start()  # sweeps the lost run once its heartbeat is stale, and recovers
        client = get_client(url=second.url, headers=headers, timeout=60)
        await await_until(lambda: audit_rows(url, tid)[0][1] != "started", timeout=180)
        (_, status, _, envelope_id, message), = audit_rows(url, tid)
        assert status == "interrupted" and "found in DocuSign" in message
        assert envelope_id == envelopes()[0].envelope_id
        assert (await client.runs.get(tid, run["run_id"]))["status"] == "error"

        state = await client.threads.get_state(tid)
        messages = state["values"]["messages"]
        asked = next(m for m in reversed(messages) if m["type"] == "ai" and m.get("tool_calls"))
        replies = {m["tool_call_id"]: m for m in messages if m["type"] == "tool"}
        assert {c["id"] for c in asked["tool_calls"]} <= set(replies), "every tool call has its reply"
        reply = json.loads(replies[call_id]["content"])
        assert reply["recovered"] is True and reply["envelope_id"] == envelope_id and reply["status"] == "sent"
        async with httpx.AsyncClient(base_url=second.url, headers=headers, timeout=60) as http:
            mirrored = await http.get(f"/v1/envelopes/{envelope_id}")
        assert mirrored.status_code == 200 and mirrored.json()["status"] == "sent"

        # The next turn: the thread is usable, and the envelope was not sent again.
        after = await client.runs.wait(tid, "agent", input=say("did it go out?"))
        assert after["messages"][-1]["type"] == "ai"
        assert (await client.threads.get(tid))["status"] == "idle"
        assert len(envelopes()) == 1
    finally:
        first.kill()
        if second is not None:
            second.stop()
