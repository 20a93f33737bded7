"""Assistants and threads through the SDK; isolation between users on every route; auth; bad input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api_helpers import ApiServer, api_server, human, parse_sse  # noqa: F401


async def test_assistants(api_server: ApiServer) -> None:
    client = api_server.client()
    found = await client.assistants.search(graph_id="test")
    assert [a["assistant_id"] for a in found] == ["test"]
    assistant = await client.assistants.get("test")
    assert assistant["graph_id"] == "test" and assistant["name"] == "test"
    assert (await client.assistants.get("agent"))["graph_id"] == "agent"
    graph = await client.assistants.get_graph("test")
    assert {n["id"] for n in graph["nodes"]} >= {"__start__", "respond", "__end__"}
    schemas = await client.assistants.get_schemas("test")
    assert "messages" in schemas["input_schema"]["properties"]
    with pytest.raises(httpx.HTTPStatusError) as missing:
        await client.assistants.get("nope")
    assert missing.value.response.status_code == 404


async def test_thread_lifecycle(api_server: ApiServer) -> None:
    client = api_server.client()
    tag = uuid.uuid4().hex
    thread = await client.threads.create(metadata={"tag": tag, "topic": "nda"})
    tid = thread["thread_id"]
    assert thread["status"] == "idle" and thread["metadata"] == {"tag": tag, "topic": "nda"} and thread["values"] == {}
    assert (await client.threads.get(tid))["thread_id"] == tid
    # explicit id, if_exists
    own_id = str(uuid.uuid4())
    assert (await client.threads.create(thread_id=own_id))["thread_id"] == own_id
    assert (await client.threads.create(thread_id=own_id, if_exists="do_nothing"))["thread_id"] == own_id
    with pytest.raises(httpx.HTTPStatusError) as conflict:
        await client.threads.create(thread_id=own_id)
    assert conflict.value.response.status_code == 409
    # empty state and history before any run
    state = await client.threads.get_state(tid)
    assert state["values"] == {} and state["next"] == [] and state["checkpoint"] is None
    assert await client.threads.get_history(tid) == []
    # search by metadata, then patch
    found = await client.threads.search(metadata={"tag": tag})
    assert [t["thread_id"] for t in found] == [tid]
    patched = await client.threads.update(tid, metadata={"topic": "msa", "extra": 1})
    assert patched["metadata"] == {"tag": tag, "topic": "msa", "extra": 1}
    assert await client.threads.count(metadata={"tag": tag}) == 1
    # a run merges graph_id and assistant_id, and fills values for thread lists
    await client.runs.wait(tid, "test", input=human("remember me"))
    thread = (await client.threads.search(metadata={"graph_id": "test", "tag": tag}))[0]
    assert thread["metadata"]["assistant_id"] == "test"
    assert thread["values"]["messages"][0]["content"] == "remember me"
    assert (await client.threads.search(metadata={"tag": tag}, status="idle", select=["thread_id", "status"])) == [
        {"thread_id": tid, "status": "idle"}]
    # state by checkpoint, history, update_state
    state = await client.threads.get_state(tid)
    again = await client.threads.get_state(tid, checkpoint_id=state["checkpoint"]["checkpoint_id"])
    assert again["values"] == state["values"]
    history = await client.threads.get_history(tid, limit=2)
    assert len(history) == 2 and history[0]["checkpoint"] == state["checkpoint"]
    older = await client.threads.get_history(tid, before=history[0]["checkpoint"]["checkpoint_id"], limit=10)
    assert older and older[0]["checkpoint"] == history[1]["checkpoint"]
    updated = await client.threads.update_state(tid, {"messages": [{"role": "ai", "content": "edited"}]},
                                                as_node="respond")
    assert updated["checkpoint"]["checkpoint_id"] != state["checkpoint"]["checkpoint_id"]
    assert (await client.threads.get_state(tid))["values"]["messages"][-1]["content"] == "edited"
    # delete removes the thread, its runs and checkpoints
    await client.threads.delete(tid)
    for call in (client.threads.get(tid), client.threads.get_state(tid), client.runs.list(tid)):
        with pytest.raises(httpx.HTTPStatusError) as gone:
            await call
        assert gone.value.response.status_code == 404


async def test_another_users_things_are_404_on_every_route(api_server: ApiServer) -> None:
    alice, bob = api_server.client("alice"), api_server.client("bob")
    tid = (await alice.threads.create(metadata={"owner": "alice"}))["thread_id"]
    await alice.runs.wait(tid, "test", input=human("private"))
    run = await alice.runs.create(tid, "test", input=human("slow 5"))
    rid = run["run_id"]
    assert await bob.threads.search(metadata={"owner": "alice"}) == []
    assert await bob.threads.count(metadata={"owner": "alice"}) == 0
    base = f"/threads/{tid}"
    attempts = [
        ("GET", base, None), ("PATCH", base, {"metadata": {"x": 1}}), ("DELETE", base, None),
        ("GET", f"{base}/state", None), ("POST", f"{base}/state", {"values": {}}),
        ("POST", f"{base}/history", {}), ("GET", f"{base}/runs", None),
        ("POST", f"{base}/runs", {"assistant_id": "test", "input": human("x")}),
        ("POST", f"{base}/runs/wait", {"assistant_id": "test", "input": human("x")}),
        ("POST", f"{base}/runs/stream", {"assistant_id": "test", "input": human("x")}),
        ("GET", f"{base}/runs/{rid}", None), ("GET", f"{base}/runs/{rid}/join", None),
        ("GET", f"{base}/runs/{rid}/stream", None), ("POST", f"{base}/runs/{rid}/cancel", None),
        ("DELETE", f"{base}/runs/{rid}", None),
    ]
    async with api_server.http("bob") as http:
        for method, path, body in attempts:
            response = await http.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.status_code, response.text)
            assert response.json()["error"] == "not_found"
        # creating a thread with alice's id does not reveal or touch hers
        response = await http.post("/threads", json={"thread_id": tid, "if_exists": "do_nothing"})
        assert response.status_code == 409
    assert (await alice.runs.join(tid, rid))["messages"][-1]["content"] == "slept 5 ticks"
    assert (await alice.threads.get(tid))["metadata"] == {"owner": "alice", "graph_id": "test", "assistant_id": "test"}


PROTECTED = [("POST", "/assistants/search"), ("GET", "/assistants/agent"), ("POST", "/threads"),
             ("POST", "/threads/search"), ("GET", f"/threads/{uuid.uuid4()}"), ("POST", "/runs/wait"),
             ("POST", "/runs/stream"), ("GET", "/metrics"), ("GET", "/v1/preferences"), ("GET", "/v1/documents")]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_auth_required(api_server: ApiServer, method: str, path: str) -> None:
    async with api_server.http(None) as http:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"X-Api-Key": "dsa_nope"}):
            response = await http.request(method, path, headers=headers, json={"assistant_id": "test"})
            assert response.status_code == 401, (path, headers)
            assert response.json()["error"] in {"unauthenticated", "invalid_token", "invalid_api_key"}


async def test_public_routes(api_server: ApiServer) -> None:
    async with api_server.http(None) as http:
        for path in ("/ok", "/info", "/openapi.json", "/docs"):
            assert (await http.get(path)).status_code == 200, path
        spec = (await http.get("/openapi.json")).json()
    body = spec["components"]["schemas"]["RunCreate"]["properties"]
    assert {"assistant_id", "input", "command", "stream_mode", "multitask_strategy", "context"} <= set(body)


BAD_BODIES = [
    (b"{not json", "body"),
    (b'{"assistant_id": "test", "stream_mode": 5}', "stream_mode"),
    (b'{"assistant_id": "test", "stream_mode": ["values", "telepathy"]}', "stream_mode"),
    (b'{"assistant_id": "test", "config": {"configurable": {"a": 1}}, "context": {"a": 1}}', "context"),
    (b'{"assistant_id": "test", "multitask_strategy": "sometimes"}', "multitask_strategy"),
    (b'{"assistant_id": "test", "webhook": "http://example.com/hook"}', "webhook"),
    (b'{"assistant_id": "test", "config": {"recursion_limit": "many"}}', "config.recursion_limit"),
    (b'{"input": {}}', "assistant_id"),
]


@pytest.mark.parametrize(("raw", "field"), BAD_BODIES)
async def test_bad_run_bodies_name_the_field_and_create_nothing(api_server: ApiServer, raw: bytes, field: str) -> None:
    client = api_server.client("carol")
    tid = (await client.threads.create())["thread_id"]
    before = await client.threads.count()
    async with api_server.http("carol") as http:
        for path in (f"/threads/{tid}/runs", f"/threads/{tid}/runs/stream", "/runs/wait"):
            response = await http.post(path, content=raw, headers={"Content-Type": "application/json"})
            assert response.status_code == 422, (path, response.text)
            assert response.json()["field"] == field, response.json()
    assert await client.runs.list(tid) == []
    assert await client.threads.count() == before


async def test_bad_references_are_404_or_422(api_server: ApiServer) -> None:
    client = api_server.client("dave")
    tid = (await client.threads.create())["thread_id"]
    async with api_server.http("dave") as http:
        cases = [
            ("POST", f"/threads/{tid}/runs", {"assistant_id": "nope", "input": {}}, 404, "assistant_id"),
            ("POST", f"/threads/{uuid.uuid4()}/runs", {"assistant_id": "test", "input": {}}, 404, "thread_id"),
            ("GET", f"/threads/{tid}/runs/{uuid.uuid4()}", None, 404, "run_id"),
            ("GET", "/threads/not-a-uuid", None, 422, "thread_id"),
            ("POST", "/runs/wait", {"assistant_id": "test", "command": {"resume": "yes"}}, 422, "command.resume"),
            ("POST", f"/threads/{tid}/runs", {"assistant_id": "test", "command": {"resume": "yes"}}, 422,
             "command.resume"),
        ]
        for method, path, body, status, field in cases:
            response = await http.request(method, path, json=body)
            assert response.status_code == status, (path, response.text)
            assert response.json()["field"] == field, (path, response.json())
        fresh = str(uuid.uuid4())
        response = await http.post(f"/threads/{fresh}/runs", json={"assistant_id": "test", "if_not_exists": "create",
                                                                    "command": {"resume": "yes"}})
        assert response.status_code == 422 and response.json()["field"] == "command.resume"
        bad_id = await http.get(f"/threads/{tid}/runs/{uuid.uuid4()}/stream", headers={"Last-Event-ID": "x-y"})
        assert bad_id.status_code == 404
    assert await client.runs.list(tid) == []


async def test_oversized_body_is_413(api_server: ApiServer) -> None:
    client = api_server.client("erin")
    tid = (await client.threads.create())["thread_id"]
    big = "x" * (api_server.settings.max_body_bytes + 10)
    async with api_server.http("erin") as http:
        response = await http.post(f"/threads/{tid}/runs", json={"assistant_id": "test", "input": human(big)})
        assert response.status_code == 413 and response.json()["error"] == "payload_too_large"

        async def chunks():  # no Content-Length: counted while streaming
            yield b'{"assistant_id": "test", "input": {"messages": [{"role": "user", "content": "'
            for _ in range(20):
                yield b"y" * 100_000
            yield b'"}]}}'

        response = await http.post(f"/threads/{tid}/runs", content=chunks(),
                                   headers={"Content-Type": "application/json"})
        assert response.status_code == 413
    assert await client.runs.list(tid) == []


async def test_agent_chat_ui_request(api_server: ApiServer) -> None:
    """What agent-chat-ui sends on resume: input and command together, browser headers, CORS."""
    client = api_server.client()
    tid = (await client.threads.create())["thread_id"]
    origin = "http://localhost:3000"
    assert origin in api_server.settings.cors_origins
    await client.runs.wait(tid, "test", input=human("approve it"))
    headers = {**api_server.headers(), "Origin": origin, "Accept": "text/event-stream", "Cache-Control": "no-store",
               "Content-Type": "application/json", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
               "Referer": f"{origin}/?threadId={tid}", "Accept-Language": "en-US,en;q=0.9"}
    body = {"input": {"messages": []}, "command": {"resume": {"decisions": [{"type": "approve"}]}},
            "stream_mode": ["values", "messages-tuple", "custom"], "stream_subgraphs": True, "stream_resumable": True,
            "assistant_id": "test", "on_disconnect": "continue", "multitask_strategy": "enqueue",
            "config": {"configurable": {"model": "offline"}}, "metadata": {"source": "agent-chat-ui"},
            "checkpoint": None}
    async with httpx.AsyncClient(base_url=api_server.url, timeout=30) as http:
        preflight = await http.options(f"/threads/{tid}/runs/stream", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        async with http.stream("POST", f"/threads/{tid}/runs/stream", json=body, headers=headers) as response:
            raw = await response.aread()
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "content-location" in exposed and "location" in exposed
    events = parse_sse(raw)
    assert events[0][0] == "metadata" and events[-1][0] == "end"
    final = [data for name, data, _ in events if name == "values"][-1]
    assert final["messages"][-1]["content"] == "decision: approve"
    assert all(event_id for _, _, event_id in events)
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle" and thread["metadata"]["graph_id"] == "test"
    run = (await client.runs.list(tid, limit=1))[0]
    assert run["metadata"] == {"source": "agent-chat-ui"} and run["kwargs"]["input"] is None


def test_assistant_schemas_describe_state_apart_from_output_and_survive_undescribable_types() -> None:
    from typing_extensions import TypedDict

    from langgraph.graph import END, START, StateGraph

    from runtime.runs.graphs import GraphRegistry

    class Question(TypedDict):
        question: str

    class Answer(TypedDict):
        answer: str

    class Working(Question, Answer):
        notes: list[str]

    class Opaque:  # a context type with no JSON schema
        pass

    def think(state: Working) -> dict[str, Any]:
        return {"answer": state["question"].upper()}

    builder = StateGraph(Working, input_schema=Question, output_schema=Answer, context_schema=Opaque)
    builder.add_node("think", think)
    builder.add_edge(START, "think")
    builder.add_edge("think", END)
    schemas = GraphRegistry({"typed": lambda _: builder.compile()}).schemas("typed", builder.compile())
    assert set(schemas["input_schema"]["properties"]) == {"question"}
    assert set(schemas["output_schema"]["properties"]) == {"answer"}
    assert set(schemas["state_schema"]["properties"]) == {"question", "answer", "notes"}
    assert schemas["context_schema"] is None  # no JSON schema for it: null, not a failed request
