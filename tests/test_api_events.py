"""Stream mode `events` (LangChain's astream_events v2) through langgraph-sdk: alone, beside other modes, with
`stream_subgraphs`, and on the agent itself, whose events carry nothing of the server's secrets."""

from __future__ import annotations

from typing import Any

import orjson

from tests.api_helpers import ApiServer, api_server, human, parse_sse  # noqa: F401

EVENT_KEYS = {"event", "name", "run_id", "parent_ids", "tags", "metadata", "data"}


async def _parts(client: Any, graph: str, text: str, **options: Any) -> list[Any]:
    thread = await client.threads.create()
    return [p async for p in client.runs.stream(thread["thread_id"], graph, input=human(text), **options)]


async def test_events_alone(api_server: ApiServer) -> None:
    parts = await _parts(api_server.client("events-alone"), "test", "hello", stream_mode="events")
    names = [p.event for p in parts]
    assert names[0] == "metadata" and names[-1] == "end" and set(names) == {"metadata", "events", "end"}
    run_id = parts[0].data["run_id"]
    events = [p.data for p in parts if p.event == "events"]
    assert all(set(e) == EVENT_KEYS for e in events)
    kinds = [(e["event"], e["name"]) for e in events]
    assert kinds[0] == ("on_chain_start", "test") and kinds[-1] == ("on_chain_end", "test")
    assert events[0]["run_id"] == run_id and events[0]["data"]["input"] == human("hello")
    assert ("on_chain_start", "respond") in kinds and ("on_chain_end", "respond") in kinds
    assert ("on_custom_event", "started") not in kinds  # stream-writer output is the `custom` mode's, not an event
    # the run's own chain-stream events carry the other modes' chunks: not sent as events
    assert not [e for e in events if e["event"] == "on_chain_stream" and e["run_id"] == run_id]
    end = next(e for e in events if e["event"] == "on_chain_end" and e["run_id"] == run_id)
    assert end["data"]["output"]["messages"][-1]["content"] == "echo: hello"


async def test_events_with_other_modes(api_server: ApiServer) -> None:
    parts = await _parts(api_server.client("events-mixed"), "test", "mixed",
                         stream_mode=["events", "values", "custom", "messages-tuple"])
    names = {p.event for p in parts}
    assert {"events", "values", "custom", "messages"} <= names and "updates" not in names
    last_values = [p.data for p in parts if p.event == "values"][-1]
    assert [m["content"] for m in last_values["messages"]] == ["mixed", "echo: mixed"]
    assert {"step": "started", "text": "mixed"} in [p.data for p in parts if p.event == "custom"]


async def test_events_with_subgraphs(api_server: ApiServer) -> None:
    parts = await _parts(api_server.client("events-nested"), "nested", "deep", stream_mode=["events", "updates"],
                         stream_subgraphs=True)
    names = [p.event for p in parts]
    assert "updates" in names and any(n.startswith("updates|inner:") for n in names)  # the subgraph's own
    events = [p.data for p in parts if p.event == "events"]
    assert not [n for n in names if n.startswith("events|")]  # events carry no namespace suffix
    inner = [e for e in events if e["name"] == "respond" and e["event"] == "on_chain_start"]
    assert inner and inner[0]["metadata"]["langgraph_checkpoint_ns"].startswith("inner:")


async def test_events_of_the_agent_carry_no_secrets(api_server: ApiServer) -> None:
    async with api_server.http("events-agent") as http:
        thread = (await http.post("/threads", json={})).json()
        response = await http.post(f"/threads/{thread['thread_id']}/runs/stream", json={
            "assistant_id": "agent", "input": human("what templates do I have"), "stream_mode": ["events"]})
    assert response.status_code == 200
    raw = response.content
    assert api_server.settings.auth_jwt_secret.encode() not in raw
    events = [data for name, data, _ in parse_sse(raw) if name == "events"]
    kinds = {e["event"] for e in events}
    assert {"on_chat_model_start", "on_chat_model_stream", "on_chat_model_end"} <= kinds, kinds
    assert orjson.dumps(events)  # every event is JSON
