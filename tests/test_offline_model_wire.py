"""The offline model's HTTP API speaks OpenAI's Chat Completions wire format (raw httpx, no OpenAI client)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from docusign_agent.settings import OFFLINE_MODEL
from emulator.offline_model import create_offline_model_app
try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_offline_model_support import (GUID, GUID2, TODAY, assistant_calls, openai_tools, system,
                                  tool_result, user)
except ImportError:
    from test_offline_model_support import (GUID, GUID2, TODAY, assistant_calls, openai_tools, system,
                                            tool_result, user)

TOOLS = openai_tools()


@pytest.fixture
async def client():
    app = create_offline_model_app(today=TODAY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://offline-model/v1") as c:
        yield c


def body(messages: list[dict], **extra: Any) -> dict[str, Any]:
    return {"model": OFFLINE_MODEL, "messages": messages, **extra}


async def stream_chunks(client: httpx.AsyncClient, payload: dict) -> tuple[list[dict], list[str]]:
    async with client.stream("POST", "/chat/completions", json=payload) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = (await response.aread()).decode()
    events = [block for block in raw.split("\n\n") if block]
    assert all(event.startswith("data: ") for event in events)
    lines = [event[len("data: "):] for event in events]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]], lines


async def test_models_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.get("/models")
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == OFFLINE_MODEL
    assert (await client.get(f"/models/{OFFLINE_MODEL}")).json()["object"] == "model"
    missing = await client.get("/models/gpt-4o")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


async def test_non_stream_text(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/completions", json=body([system(), user("hello")], tools=TOOLS))
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion" and data["model"] == OFFLINE_MODEL
    assert data["id"].startswith("chatcmpl-")
    choice = data["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    assert "list your envelopes" in choice["message"]["content"]
    assert "tool_calls" not in choice["message"]
    usage = data["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_non_stream_tool_call(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/completions", json=body([user("what's waiting for signature")], tools=TOOLS))
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert call["function"]["name"] == "list_envelopes"
    assert json.loads(call["function"]["arguments"]) == {"status": "sent"}


async def test_same_request_same_output(client: httpx.AsyncClient) -> None:
    payload = body([user("send the NDA template to bob@example.com")], tools=TOOLS)
    first, second = [(await client.post("/chat/completions", json=payload)).json() for _ in range(2)]
    assert first["id"] == second["id"] and first["choices"] == second["choices"]


async def test_stream_text_in_several_deltas_with_usage(client: httpx.AsyncClient) -> None:
    messages = [system(), user("hello")]
    expected = (await client.post("/chat/completions", json=body(messages, tools=TOOLS))).json()
    chunks, _ = await stream_chunks(client, body(messages, tools=TOOLS, stream=True,
                                                 stream_options={"include_usage": True}))
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == expected["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    contents = [c["choices"][0]["delta"].get("content") for c in chunks[1:] if c["choices"]]
    pieces = [p for p in contents if p]
    assert len(pieces) > 10
    assert "".join(pieces) == expected["choices"][0]["message"]["content"]
    finish = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(finish) == 1 and finish[0]["choices"][0]["finish_reason"] == "stop"
    assert finish[0]["choices"][0]["delta"] == {}
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == expected["usage"]


async def test_stream_without_usage_has_no_usage_chunk(client: httpx.AsyncClient) -> None:
    chunks, _ = await stream_chunks(client, body([user("thanks")], stream=True))
    assert all(c["choices"] and "usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_stream_tool_call_deltas_like_openai(client: httpx.AsyncClient) -> None:
    messages = [user(f"download the certificate of completion for {GUID}")]
    expected = (await client.post("/chat/completions", json=body(messages, tools=TOOLS))).json()
    (want,) = expected["choices"][0]["message"]["tool_calls"]
    chunks, _ = await stream_chunks(client, body(messages, tools=TOOLS, stream=True))
    first = chunks[0]["choices"][0]["delta"]
    assert first["role"] == "assistant" and first["content"] is None
    assert first["tool_calls"] == [{"index": 0, "id": want["id"], "type": "function",
                                    "function": {"name": "download_document", "arguments": ""}}]
    fragments = []
    for chunk in chunks[1:-1]:
        (delta_call,) = chunk["choices"][0]["delta"]["tool_calls"]
        assert set(delta_call) == {"index", "function"} and set(delta_call["function"]) == {"arguments"}
        fragments.append(delta_call["function"]["arguments"])
    assert len(fragments) > 3
    assert "".join(fragments) == want["function"]["arguments"]
    assert json.loads("".join(fragments)) == {"envelope_id": GUID, "document": "certificate"}
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "tool_calls"}


async def test_stream_several_tool_calls_use_their_own_index(client: httpx.AsyncClient) -> None:
    found = {"summary": "Found 2.", "envelopes": [{"envelopeId": GUID, "status": "sent"},
                                                  {"envelopeId": GUID2, "status": "sent"}]}
    messages = [user("remind everyone on my pending envelopes"),
                assistant_calls(("call_a", "list_envelopes", {"status": "sent"})), tool_result("call_a", found)]
    chunks, _ = await stream_chunks(client, body(messages, tools=TOOLS, stream=True))
    calls: dict[int, dict] = {}
    for chunk in chunks:
        for delta in chunk["choices"][0]["delta"].get("tool_calls", []):
            entry = calls.setdefault(delta["index"], {"arguments": ""})
            if "id" in delta:
                entry.update(id=delta["id"], name=delta["function"]["name"])
            entry["arguments"] += delta["function"]["arguments"]
    assert sorted(calls) == [0, 1] and calls[0]["id"] != calls[1]["id"]
    assert [json.loads(calls[i]["arguments"])["envelope_id"] for i in (0, 1)] == [GUID, GUID2]
    assert {c["name"] for c in calls.values()} == {"remind_recipients"}


@pytest.mark.parametrize(
    ("payload", "status", "param", "code"),
    [
        ({"model": OFFLINE_MODEL}, 400, "messages", "missing_required_parameter"),
        ({"model": OFFLINE_MODEL, "messages": []}, 400, "messages", "empty_array"),
        ({"model": OFFLINE_MODEL, "messages": "hi"}, 400, "messages", "invalid_type"),
        ({"messages": [{"role": "user", "content": "hi"}]}, 400, "model", "missing_required_parameter"),
        ({"model": OFFLINE_MODEL, "messages": [{"role": "robot", "content": "hi"}]}, 400, "messages[0].role",
         "invalid_value"),
        ({"model": OFFLINE_MODEL, "messages": [{"role": "user"}]}, 400, "messages[0].content",
         "missing_required_parameter"),
        ({"model": OFFLINE_MODEL, "messages": [{"role": "tool", "tool_call_id": "x", "content": "{}"}]}, 400,
         "messages[0].role", None),
        ({"model": OFFLINE_MODEL, "messages": [{"role": "user", "content": "hi"}], "stream_options": {}}, 400,
         "stream_options", "invalid_value"),
        ({"model": OFFLINE_MODEL, "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]},
         400, "tools[0]", "invalid_value"),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, 404, None, "model_not_found"),
    ],
)
async def test_bad_requests_get_openai_errors(client, payload: dict, status: int, param: str | None,
                                              code: str | None) -> None:
    response = await client.post("/chat/completions", json=payload)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["message"]
    assert (error["param"], error["code"]) == (param, code)


async def test_malformed_json_and_unknown_route(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/completions", content=b"{not json",
                                 headers={"content-type": "application/json"})
    assert response.status_code == 400 and "parse the JSON body" in response.json()["error"]["message"]
    response = await client.post("/chat/completions", json=[1, 2])
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"
    response = await client.get("/nothing-here")
    assert response.status_code == 404 and set(response.json()["error"]) == {"message", "type", "param", "code"}


async def test_tool_choice_none_and_named() -> None:
    app = create_offline_model_app(today=TODAY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x/v1") as client:
        none = await client.post("/chat/completions", json=body([user("list my envelopes")], tools=TOOLS,
                                                                  tool_choice="none"))
        assert none.json()["choices"][0]["finish_reason"] == "stop"
        named = await client.post("/chat/completions", json=body(
            [user("list my envelopes")], tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "list_envelopes"}}))
        assert named.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "list_envelopes"


async def test_mounted_under_emulator_prefix() -> None:
    server = FastAPI()
    server.mount("/_emulator", create_offline_model_app(today=TODAY))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=server), base_url="http://server") as client:
        response = await client.post("/_emulator/v1/chat/completions",
                                     json=body([user(f"status of envelope {GUID}")], tools=TOOLS))
        assert response.status_code == 200
        call = response.json()["choices"][0]["message"]["tool_calls"][0]
        assert call["function"]["name"] == "get_envelope_status"
        assert (await client.get("/_emulator/v1/models")).json()["data"][0]["id"] == OFFLINE_MODEL
