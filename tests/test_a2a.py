"""A2A against a real server, with the official `a2a-sdk` client (its A2A 0.3 JSON-RPC transport, which is what
langgraph-api serves): the agent card, a message/send round trip on a thread, a message/stream, tasks/get and
tasks/cancel, and JSON-RPC errors that name the field and change nothing. Wire shapes are also checked against
the SDK's 0.3 models."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.compat.v0_3 import types as v03
from a2a.types import a2a_pb2 as a2a

from tests.api_helpers import ApiServer
from tests.mcp_helpers import mcp_server
from tests.servers import await_until
from tools.registry import ALL

__all__ = ["mcp_server"]


def ask(text: str, context_id: str = "") -> a2a.SendMessageRequest:
    return a2a.SendMessageRequest(message=a2a.Message(role=a2a.Role.ROLE_USER, message_id=uuid.uuid4().hex,
                                                      context_id=context_id, parts=[a2a.Part(text=text)]))


def rpc(method: str, params: dict[str, Any], request_id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def user_text(text: str, **extra: Any) -> dict[str, Any]:
    return {"message": {"role": "user", "messageId": uuid.uuid4().hex, "parts": [{"kind": "text", "text": text}],
                        **extra}}


async def test_agent_card(mcp_server: ApiServer) -> None:
    async with httpx.AsyncClient(base_url=mcp_server.url) as http:
        default = await http.get("/.well-known/agent-card.json")
        named = await http.get("/.well-known/agent-card.json", params={"assistant_id": "agent"})
        unknown = await http.get("/.well-known/agent-card.json", params={"assistant_id": str(uuid.uuid4())})
    assert default.status_code == 200 and default.json() == named.json()
    card = v03.AgentCard.model_validate(default.json())
    assert card.url == f"{mcp_server.url}/a2a/agent" and card.capabilities.streaming
    assert {s.id for s in card.skills} == {spec.name for spec in ALL}
    assert set(card.security_schemes or {}) == {"bearer", "apiKey"}
    assert unknown.status_code == 401  # someone's own assistant: only its owner may read its card


async def test_message_send_round_trip(mcp_server: ApiServer) -> None:
    async with httpx.AsyncClient(headers=mcp_server.headers("ines"), timeout=120) as http:
        client = await create_client(mcp_server.url, client_config=ClientConfig(httpx_client=http, streaming=False))
        [first] = [r async for r in client.send_message(ask("which templates do I have?"))]
        task = first.task
        assert task.status.state == a2a.TaskState.TASK_STATE_COMPLETED
        answer = task.artifacts[0].parts[0].text
        assert "Mutual NDA" in answer and task.status.message.parts[0].text == answer
        # the same context is the same thread: the second turn continues the conversation
        [second] = [r async for r in client.send_message(ask("list my envelopes", task.context_id))]
        assert second.task.context_id == task.context_id and second.task.id != task.id
        got = await client.get_task(a2a.GetTaskRequest(id=task.id))
        assert got.status.state == a2a.TaskState.TASK_STATE_COMPLETED and got.context_id == task.context_id
        assert [m.parts[0].text for m in got.history][:1] == ["which templates do I have?"]
    thread = await mcp_server.client("ines").threads.get(task.context_id)
    humans = [m["content"] for m in thread["values"]["messages"] if m["type"] == "human"]
    assert humans == ["which templates do I have?", "list my envelopes"]
    async with mcp_server.http("jon") as other:  # another user: neither the thread nor the task exists
        assert (await other.get(f"/threads/{task.context_id}")).status_code == 404
        missing = (await other.post("/a2a/agent", json=rpc("tasks/get", {"id": task.id}))).json()
    assert missing["error"]["code"] == -32001 and missing["error"]["data"]["field"] == "params.id"


async def test_message_stream(mcp_server: ApiServer) -> None:
    async with httpx.AsyncClient(headers=mcp_server.headers("kim"), timeout=120) as http:
        client = await create_client(mcp_server.url, client_config=ClientConfig(httpx_client=http, streaming=True))
        events = [r async for r in client.send_message(ask("which templates do I have?"))]
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds[0] == "task" and events[0].task.status.state == a2a.TaskState.TASK_STATE_SUBMITTED
    assert kinds[1] == "status_update" and events[1].status_update.status.state == a2a.TaskState.TASK_STATE_WORKING
    pieces = [e.artifact_update for e in events if e.WhichOneof("payload") == "artifact_update"]
    assert len(pieces) > 2  # the answer arrives token by token, then whole
    last = events[-1].status_update
    assert last.status.state == a2a.TaskState.TASK_STATE_COMPLETED
    assert pieces[-1].last_chunk and pieces[-1].artifact.parts[0].text == last.status.message.parts[0].text
    assert "Mutual NDA" in last.status.message.parts[0].text
    # the streamed tokens add up to the answer
    streamed = ""
    for piece in pieces[:-1]:
        streamed = (streamed if piece.append else "") + piece.artifact.parts[0].text
    assert streamed.strip() == last.status.message.parts[0].text


async def test_stream_frames_are_a2a_shapes(mcp_server: ApiServer) -> None:
    async with mcp_server.http("lea") as http:
        async with http.stream("POST", "/a2a/agent", json=rpc("message/stream", user_text("list my envelopes")),
                               headers={"Accept": "text/event-stream"}) as response:
            frames = [line.removeprefix("data: ") async for line in response.aiter_lines() if line.startswith("data: ")]
    parsed = [v03.SendStreamingMessageResponse.model_validate_json(f).root for f in frames]
    results = [p.result for p in parsed]
    assert isinstance(results[0], v03.Task) and isinstance(results[-1], v03.TaskStatusUpdateEvent)
    assert results[-1].final and results[-1].status.state == v03.TaskState.completed


async def test_errors_name_the_field_and_change_nothing(mcp_server: ApiServer) -> None:
    async with mcp_server.http("max") as http:
        async def call(body: Any, **kwargs: Any) -> dict[str, Any]:
            response = await http.post("/a2a/agent", **({"json": body} if body is not None else kwargs))
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

        not_json = await call(None, content=b"{nope")
        not_rpc = await call({"id": 1, "method": "message/send"})
        unknown = await call(rpc("tasks/list", {}))
        no_parts = await call(rpc("message/send", {"message": {"role": "user", "messageId": "m", "parts": []}}))
        as_agent = await call(rpc("message/send", {"message": {"role": "agent", "messageId": "m",
                                                               "parts": [{"kind": "text", "text": "hi"}]}}))
        a_file = await call(rpc("message/send", {"message": {"role": "user", "messageId": "m", "parts": [
            {"kind": "file", "file": {"uri": "https://example.com/x.pdf"}}]}}))
        bad_context = await call(rpc("message/send", user_text("hi", contextId="not-a-uuid")))
        bad_task = await call(rpc("tasks/get", {"id": "nope"}))
        threads = (await http.post("/threads/search", json={})).json()
        missing_assistant = await http.post(f"/a2a/{uuid.uuid4()}", json=rpc("message/send", user_text("hi")))
    assert not_json["error"]["code"] == -32700 and not_json["id"] is None
    assert not_rpc["error"]["code"] == -32600 and not_rpc["error"]["data"]["field"] == "jsonrpc"
    assert unknown["error"]["code"] == -32601 and unknown["id"] == 1
    assert no_parts["error"]["code"] == -32602 and no_parts["error"]["data"]["field"] == "params.message.parts"
    assert as_agent["error"]["data"]["field"] == "params.message.role"
    assert a_file["error"]["code"] == -32005 and a_file["error"]["data"]["field"] == "params.message.parts.0"
    assert bad_context["error"]["data"]["field"] == "params.message.contextId"
    assert bad_task["error"]["data"]["field"] == "params.id"
    assert threads == []  # none of the refused messages started a conversation
    assert missing_assistant.status_code == 404 and missing_assistant.json()["field"] == "assistant_id"
    async with httpx.AsyncClient(base_url=mcp_server.url) as anonymous:
        refused = await anonymous.post("/a2a/agent", json=rpc("message/send", user_text("hi")))
    assert refused.status_code == 401


async def test_blocking_false_and_cancel(mcp_server: ApiServer) -> None:
    async with mcp_server.http("ned") as http:
        queued = (await http.post("/a2a/agent", json=rpc("message/send", {
            **user_text("which templates do I have?"), "configuration": {"blocking": False}}))).json()["result"]
        assert queued["status"]["state"] == "submitted"

        async def finished() -> dict[str, Any] | None:
            got = (await http.post("/a2a/agent", json=rpc("tasks/get", {"id": queued["id"]}))).json()["result"]
            return got if got["status"]["state"] not in ("submitted", "working") else None

        got = await await_until(finished, timeout=120)
        assert got["status"]["state"] == "completed" and "Mutual NDA" in got["status"]["message"]["parts"][0]["text"]
        late = (await http.post("/a2a/agent", json=rpc("tasks/cancel", {"id": queued["id"]}))).json()
    assert late["error"]["code"] == -32002


@pytest.mark.parametrize("history_length", [0, 1])
async def test_tasks_get_history_length(mcp_server: ApiServer, history_length: int) -> None:
    async with mcp_server.http("ola") as http:
        sent = (await http.post("/a2a/agent", json=rpc("message/send", user_text("which templates do I have?")))).json()
        got = (await http.post("/a2a/agent", json=rpc("tasks/get", {"id": sent["result"]["id"],
                                                                     "historyLength": history_length}))).json()
    assert len(got["result"]["history"]) == history_length
