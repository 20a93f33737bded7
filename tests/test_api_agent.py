"""The product graph `agent` served over the LangGraph API: tokens and tool calls stream, approvals interrupt
and resume, through the official SDK. The offline model (through ChatOpenAI) makes the conversation
deterministic; DocuSign is the emulator on its own loopback port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from docusign_agent.settings import Settings
from emulator.standalone import build_standalone_app
from tests.api_helpers import BROWSER_ORIGIN, ApiServer, ServerThread, role_urls, runtime_options
from tests.test_api_v1 import pdf


@pytest.fixture(scope="module")
def agent_server(settings: Settings) -> Iterator[ApiServer]:
    from api.app import create_app

    with ServerThread(build_standalone_app()) as emulator:
        # DocuSign calls go to `public_url + /_emulator`: here, the emulator's own server.
        configured = settings.model_copy(update={"cors_origins": [BROWSER_ORIGIN], "public_url": emulator.url})
        app = create_app(configured, role_urls(settings.database_url),  # type: ignore[arg-type]
                         runtime_options=runtime_options())
        with ServerThread(app) as server:
            yield ApiServer(url=server.url, settings=configured)


def say(text: str) -> dict[str, Any]:
    return {"messages": [{"type": "human", "content": text}]}


def tool_payloads(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(m["name"], json.loads(m["content"])) for m in values["messages"] if m["type"] == "tool"]


async def test_streamed_tokens_and_tool_calls(agent_server: ApiServer) -> None:
    client = agent_server.client("nora")
    tid = (await client.threads.create())["thread_id"]
    parts = [p async for p in client.runs.stream(tid, "agent", input=say("list my envelopes"),
                                                  stream_mode=["values", "messages-tuple", "updates"])]
    assert parts[0].event == "metadata" and parts[-1].event == "end" and parts[-1].data["status"] == "success"
    chunks = [p.data[0] for p in parts if p.event == "messages"]
    tokens = [c for c in chunks if c["type"] == "AIMessageChunk" and c["content"]]
    assert len(tokens) > 1  # the answer arrives token by token
    assert any(c.get("tool_call_chunks") for c in chunks)  # and so does the tool call
    assert any(c["type"] == "tool" and c["name"] == "list_envelopes" for c in chunks)
    updates = [next(iter(p.data)) for p in parts if p.event == "updates"]
    assert updates[:2] == ["model", "tools"]  # nothing to approve: no gate superstep
    final = [p.data for p in parts if p.event == "values"][-1]
    assert tool_payloads(final)[-1][0] == "list_envelopes"
    assert final["messages"][-1]["type"] == "ai" and final["messages"][-1]["content"]
    metadata = next(p.data[1] for p in parts if p.event == "messages")
    assert metadata["user_id"] == str(agent_server.users["nora"]) and metadata["thread_id"] == tid


async def test_send_needs_approval_then_void_rejected(agent_server: ApiServer) -> None:
    client = agent_server.client("olga")
    async with agent_server.http("olga") as http:
        upload = await http.post("/v1/documents", files={"file": ("contract.pdf", pdf("Master Services Agreement"),
                                                                   "application/pdf")})
        assert upload.status_code == 201
    tid = (await client.threads.create())["thread_id"]
    stopped = await client.runs.wait(tid, "agent", input=say("send contract.pdf to Bob Smith bob@example.com"))
    request = stopped["__interrupt__"][0]["value"]
    assert request["action_requests"][0]["name"] == "send_document"
    assert request["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted" and thread["interrupts"]

    # resume the way agent-chat-ui does: input and command together, streamed
    parts = [p async for p in client.runs.stream(
        tid, "agent", input={"messages": []}, command={"resume": {"decisions": [{"type": "approve"}]}},
        stream_mode=["values", "messages-tuple", "custom"], stream_resumable=True)]
    final = [p.data for p in parts if p.event == "values"][-1]
    name, payload = tool_payloads(final)[-1]
    assert name == "send_document" and payload["envelope_id"]
    envelope_id = payload["envelope_id"]

    stopped = await client.runs.wait(tid, "agent", input=say(f"void {envelope_id} because wrong recipient"))
    action = stopped["__interrupt__"][0]["value"]["action_requests"][0]
    assert action["name"] == "void_envelope" and action["args"]["envelope_id"] == envelope_id
    values = await client.runs.wait(tid, "agent", command={"resume": {"decisions": [
        {"type": "reject", "message": "keep it"}]}})
    name, payload = tool_payloads(values)[-1]
    assert name == "void_envelope" and payload["error"] == "rejected"
    assert (await client.threads.get(tid))["status"] == "idle"
