"""The product as `serve` runs it: one port with the LangGraph API, the mounted emulator and the offline model,
Connect delivering to our own webhook, the mirror, and the live event stream.

A person asks the agent to send the NDA, approves, the recipient signs in the emulator, Connect tells our
webhook, the mirror shows `completed`, an open `/v1/events` client hears it, and the agent's status answer comes
from the mirror.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
from langgraph_sdk import get_client

from api.app import create_app
from api.auth import issue_token
from docusign_agent.settings import Settings
from tests.conftest import role_urls
from tests.metric_helpers import sample
from tests.servers import ServerThread, free_port


# Samples this conversation must move (earlier tests in the process may have raised them already).
MOVED = [("dsa_docusign_calls_total", {"operation": "create_envelope", "status": "201"}),
         ("dsa_tool_calls_total", {"tool": "send_template", "status": "succeeded"}),
         ("dsa_webhook_deliveries_total", {"outcome": "stored"}),
         ("dsa_webhook_events_processed_total", {"outcome": "applied"})]


def tool_payloads(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(m["name"], json.loads(m["content"])) for m in values["messages"] if m["type"] == "tool"]


async def test_agent_send_sign_connect_mirror_events(settings: Settings) -> None:
    port = free_port()
    configured = settings.model_copy(update={"port": port, "host": "127.0.0.1", "public_url": None})
    app = create_app(configured, role_urls(str(settings.database_url)))
    server = ServerThread(app, port)
    await asyncio.to_thread(server.__enter__)
    base = server.url
    user = uuid.uuid4()
    headers = {"Authorization": f"Bearer {issue_token(configured, user, f'e2e-{user.hex[:6]}@example.com')}"}
    events: list[dict[str, Any]] = []
    listening = asyncio.Event()

    async def listen() -> None:
        async with httpx.AsyncClient(timeout=None) as http, http.stream("GET", f"{base}/v1/events", headers=headers) as r:
            async for line in r.aiter_lines():
                if line.strip() == "event: ready":  # sent once the subscription is open
                    listening.set()
                elif line.startswith("data:") and listening.is_set():
                    events.append(json.loads(line[5:]))

    async with httpx.AsyncClient(base_url=base, headers=headers) as http:
        metrics_before = (await http.get("/metrics")).text
    listener = asyncio.create_task(listen())
    await asyncio.wait_for(listening.wait(), 60)
    try:
        assert (await httpx.AsyncClient().get(f"{base}/_emulator/v1/models")).json()["data"][0]["id"] == "offline-planner"
        client = get_client(url=base, headers=headers, timeout=60)
        tid = (await client.threads.create())["thread_id"]
        state = await client.runs.wait(tid, "agent", input={"messages": [
            {"type": "human", "content": "send the NDA template to bob@example.com"}]})
        [pending] = state["__interrupt__"]
        assert pending["value"]["action_requests"][0]["name"] == "send_template"
        state = await client.runs.wait(tid, "agent", command={"resume": {"decisions": [{"type": "approve"}]}})
        name, payload = tool_payloads(state)[-1]
        assert name == "send_template" and "error" not in payload, payload
        envelope_id = payload["envelope_id"]

        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            signed = await http.post(f"/_emulator/envelopes/{envelope_id}/sign", json={"recipient_id": "1"})
            assert signed.json()["status"] == "completed", signed.text
            deadline = time.monotonic() + 120
            while True:
                mirror = (await http.get(f"/v1/envelopes/{envelope_id}")).json()
                if mirror.get("status") == "completed":
                    break
                assert time.monotonic() < deadline, mirror
                await asyncio.sleep(0.1)
            assert mirror["recipients"][0]["status"] == "completed"
            while not any(json.dumps(e).find("completed") >= 0 and envelope_id in json.dumps(e) for e in events):
                assert time.monotonic() < deadline, events
                await asyncio.sleep(0.1)

        state = await client.runs.wait(tid, "agent", input={"messages": [
            {"type": "human", "content": f"status of envelope {envelope_id}"}]})
        name, payload = tool_payloads(state)[-1]
        assert name == "get_envelope_status" and payload["envelope"]["source"] == "mirror"
        assert "webhook mirror" in payload["summary"] and payload["envelope"]["status"] == "completed"

        async with httpx.AsyncClient(base_url=base, headers=headers) as http:
            metrics = (await http.get("/metrics")).text
        for name, labels in MOVED:
            assert sample(metrics, name, **labels) > sample(metrics_before, name, **labels), (name, labels)
    finally:
        listener.cancel()
        await asyncio.to_thread(server.__exit__)
