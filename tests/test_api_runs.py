"""Runs through the official langgraph-sdk client against a real server: stream, wait, join, cancel, interrupts,
multitask strategies, reconnects and disconnects."""

from __future__ import annotations


import httpx
import pytest
from langgraph_sdk.errors import ConflictError

from tests.metric_helpers import sample
from tests.api_helpers import ApiServer, api_server, await_until, human, parse_sse  # noqa: F401


async def _run_status(client, thread_id: str, run_id: str) -> str:  # type: ignore[no-untyped-def]
    return (await client.runs.get(thread_id, run_id))["status"]


async def test_streamed_run_events_and_headers(api_server: ApiServer) -> None:
    client = api_server.client()
    thread = await client.threads.create()
    created: list[dict] = []
    parts = [p async for p in client.runs.stream(
        thread["thread_id"], "test", input=human("hello"), stream_mode=["values", "messages-tuple", "custom"],
        on_run_created=created.append)]
    events = [p.event for p in parts]
    assert events[0] == "metadata" and events[-1] == "end"
    assert {"values", "messages", "custom"} <= set(events)
    run_id = parts[0].data["run_id"]
    assert created and created[0]["run_id"] == run_id
    message, metadata = next(p.data for p in parts if p.event == "messages")
    assert message["type"] == "ai" and message["content"] == "echo: hello" and metadata["langgraph_node"] == "respond"
    assert parts[-1].data == {"run_id": run_id, "status": "success"}
    assert all(p.id for p in parts)  # every event carries an id a reconnect can resume from

    async with api_server.http() as http:
        async with http.stream("POST", f"/threads/{thread['thread_id']}/runs/stream",
                               json={"assistant_id": "test", "input": human("again")}) as response:
            await response.aread()
    rid = parse_sse(response.content)[0][1]["run_id"]
    assert response.headers["content-location"] == f"/threads/{thread['thread_id']}/runs/{rid}"
    assert response.headers["location"] == f"/threads/{thread['thread_id']}/runs/{rid}/stream"
    assert response.headers["content-type"].startswith("text/event-stream")

    run = await client.runs.get(thread["thread_id"], run_id)
    assert run["status"] == "success" and run["assistant_id"] == "test"
    thread = await client.threads.get(thread["thread_id"])
    assert thread["status"] == "idle"
    assert thread["metadata"]["graph_id"] == "test" and thread["metadata"]["assistant_id"] == "test"
    assert thread["values"]["messages"][-1]["content"] == "echo: again"


async def test_messages_mode_partial_and_complete(api_server: ApiServer) -> None:
    client = api_server.client()
    parts = [p async for p in client.runs.stream(None, "test", input=human("hi"), stream_mode="messages")]
    events = [p.event for p in parts]
    assert "messages/metadata" in events and "messages/complete" in events
    complete = next(p.data for p in parts if p.event == "messages/complete")
    assert complete[-1]["content"] == "echo: hi"


async def test_interrupt_then_resume_with_decisions(api_server: ApiServer) -> None:
    client = api_server.client()
    thread = await client.threads.create()
    tid = thread["thread_id"]
    # Only messages-tuple asked for: the interrupt still arrives as a values event with __interrupt__.
    parts = [p async for p in client.runs.stream(tid, "test", input=human("approve void"),
                                                  stream_mode=["messages-tuple"])]
    interrupts = [p.data["__interrupt__"] for p in parts if p.event == "values" and "__interrupt__" in p.data]
    assert interrupts and interrupts[0][0]["value"]["action_requests"][0]["name"] == "void_envelope"
    assert interrupts[0][0]["value"]["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]

    state = await client.threads.get_state(tid)
    assert state["next"] == ["respond"]
    assert state["interrupts"][0]["value"]["action_requests"][0]["args"]["envelope_id"] == "env-1"
    assert state["tasks"][0]["interrupts"][0]["id"] == state["interrupts"][0]["id"]
    assert (await client.threads.get(tid))["status"] == "interrupted"
    assert (await client.threads.get(tid))["interrupts"]

    result = await client.runs.wait(tid, "test", command={"resume": {"decisions": [{"type": "approve"}]}})
    assert result["messages"][-1]["content"] == "decision: approve"
    assert (await client.threads.get(tid))["status"] == "idle"
    history = await client.threads.get_history(tid, limit=20)
    assert len(history) >= 3 and history[0]["values"]["messages"][-1]["content"] == "decision: approve"


async def test_wait_join_and_errors(api_server: ApiServer) -> None:
    client = api_server.client()
    thread = await client.threads.create()
    tid = thread["thread_id"]
    values = await client.runs.wait(tid, "test", input=human("waited"))
    assert values["messages"][-1]["content"] == "echo: waited"

    run = await client.runs.create(tid, "test", input=human("slow 5"))
    assert run["status"] == "pending" and run["thread_id"] == tid
    joined = await client.runs.join(tid, run["run_id"])
    assert joined["messages"][-1]["content"] == "slept 5 ticks"
    assert await _run_status(client, tid, run["run_id"]) == "success"
    # joining a finished run answers from the thread
    assert (await client.runs.join(tid, run["run_id"]))["messages"][-1]["content"] == "slept 5 ticks"

    with pytest.raises(Exception, match="asked to fail"):
        await client.runs.wait(tid, "test", input=human("fail"))
    failed = (await client.runs.list(tid, limit=1))[0]
    assert failed["status"] == "error"
    assert (await client.threads.get(tid))["status"] == "error"
    stream = [p async for p in client.runs.stream(tid, "test", input=human("fail"))]
    error = next(p.data for p in stream if p.event == "error")
    assert error == {"error": "ValueError", "message": "the test graph was asked to fail"}
    # the thread is still usable after an error
    assert (await client.runs.wait(tid, "test", input=human("ok")))["messages"][-1]["content"] == "echo: ok"
    assert (await client.threads.get(tid))["status"] == "idle"

    runs = await client.runs.list(tid, limit=50)
    assert len(runs) == 5 and all(r["thread_id"] == tid for r in runs)


async def test_stateless_runs(api_server: ApiServer) -> None:
    client = api_server.client()
    before = await client.threads.count()
    values = await client.runs.wait(None, "test", input=human("no thread"))
    assert values["messages"][-1]["content"] == "echo: no thread"
    parts = [p async for p in client.runs.stream(None, "test", input=human("streamed"), stream_mode="updates")]
    assert parts[0].event == "metadata" and parts[-1].event == "end"
    assert any(p.event == "updates" for p in parts)
    await await_until(lambda: _count_is(client, before))  # temporary threads are removed when they finish


async def _count_is(client, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return await client.threads.count() == expected


async def test_cancel_interrupt_and_rollback(api_server: ApiServer) -> None:
    client = api_server.client()
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "test", input=human("first"))

    run = await client.runs.create(tid, "test", input=human("slow 200"))
    await await_until(lambda: _is(client, tid, run["run_id"], "running"))
    await client.runs.cancel(tid, run["run_id"], action="interrupt")
    await await_until(lambda: _is(client, tid, run["run_id"], "interrupted"))
    assert (await client.threads.get(tid))["status"] in ("idle", "interrupted")

    before = (await client.threads.get_state(tid))["checkpoint"]
    run = await client.runs.create(tid, "test", input=human("slow 201"))
    await await_until(lambda: _is(client, tid, run["run_id"], "running"))
    await client.runs.cancel(tid, run["run_id"], action="rollback", wait=True)
    with pytest.raises(httpx.HTTPStatusError) as missing:
        await client.runs.get(tid, run["run_id"])
    assert missing.value.response.status_code == 404
    state = await client.threads.get_state(tid)
    assert state["checkpoint"] == before  # everything the run wrote was rolled back
    assert "slow 201" not in [m["content"] for m in state["values"]["messages"]]

    with pytest.raises(ConflictError):  # a finished run cannot be cancelled
        await client.runs.cancel(tid, (await client.runs.list(tid, limit=1))[0]["run_id"])


async def _is(client, tid: str, rid: str, status: str) -> bool:  # type: ignore[no-untyped-def]
    return await _run_status(client, tid, rid) == status


async def test_multitask_strategies(api_server: ApiServer) -> None:
    client = api_server.client()
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "test", input=human("slow 30"))
    with pytest.raises(ConflictError):
        await client.runs.create(tid, "test", input=human("rejected"), multitask_strategy="reject")
    queued = await client.runs.create(tid, "test", input=human("queued"), multitask_strategy="enqueue")
    assert queued["status"] == "pending"
    assert (await client.runs.join(tid, queued["run_id"]))["messages"][-1]["content"] == "echo: queued"
    assert await _run_status(client, tid, first["run_id"]) == "success"  # the first one finished before

    slow = await client.runs.create(tid, "test", input=human("slow 300"))
    await await_until(lambda: _is(client, tid, slow["run_id"], "running"))
    newer = await client.runs.create(tid, "test", input=human("newer"), multitask_strategy="interrupt")
    assert (await client.runs.join(tid, newer["run_id"]))["messages"][-1]["content"] == "echo: newer"
    assert await _run_status(client, tid, slow["run_id"]) == "interrupted"

    slow = await client.runs.create(tid, "test", input=human("slow 300"))
    await await_until(lambda: _is(client, tid, slow["run_id"], "running"))
    replacing = await client.runs.create(tid, "test", input=human("replacing"), multitask_strategy="rollback")
    values = await client.runs.join(tid, replacing["run_id"])
    assert [m["content"] for m in values["messages"]][-2:] == ["replacing", "echo: replacing"]
    assert "slow 300" not in [m["content"] for m in values["messages"]][-3:]
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_reconnect_with_last_event_id(api_server: ApiServer) -> None:
    client = api_server.client()
    tid = (await client.threads.create())["thread_id"]
    seen = []
    async for part in client.runs.stream(tid, "test", input=human("slow 30"), stream_mode=["custom", "values"],
                                         stream_resumable=True):
        seen.append(part)
        if part.event == "custom" and part.data.get("tick") == 3:
            break  # the client goes away mid-run
    run_id = seen[0].data["run_id"]
    rest = [p async for p in client.runs.join_stream(tid, run_id, last_event_id=seen[-1].id)]
    ticks = [p.data["tick"] for p in seen + rest if p.event == "custom" and "tick" in p.data]
    assert ticks == list(range(30))  # nothing lost, nothing repeated
    assert rest[-1].event == "end" and rest[-1].data["status"] == "success"
    # a late joiner without Last-Event-ID gets the whole run replayed
    replay = [p async for p in client.runs.join_stream(tid, run_id)]
    assert replay[0].event == "metadata" and replay[-1].event == "end"
    only_values = [p async for p in client.runs.join_stream(tid, run_id, stream_mode="values")]
    assert {p.event for p in only_values} <= {"metadata", "values", "end"}
    # the JS SDK's reconnect-on-mount asks for "-1": the whole run, on either bus
    from_start = [p async for p in client.runs.join_stream(tid, run_id, last_event_id="-1")]
    assert [p.event for p in from_start] == [p.event for p in replay]
    async with api_server.http() as http:
        bad = await http.get(f"/threads/{tid}/runs/{run_id}/stream", headers={"Last-Event-ID": "not-an-id"})
        assert bad.status_code == 400 and bad.json()["field"] == "Last-Event-ID"


async def test_idle_streams_get_heartbeats(api_server: ApiServer) -> None:
    tid = (await api_server.client().threads.create())["thread_id"]
    async with api_server.http() as http:  # values only: nothing to send while the node sleeps 1.5 s
        async with http.stream("POST", f"/threads/{tid}/runs/stream",
                               json={"assistant_id": "test", "input": human("slow 15"), "stream_mode": "values"}) as r:
            raw = await r.aread()
    assert b": heartbeat" in raw
    assert [name for name, _, _ in parse_sse(raw)] == ["metadata", "values", "values", "end"]


async def test_disconnect_keeps_the_run_unless_asked_to_cancel(api_server: ApiServer) -> None:
    client = api_server.client()
    tid = (await client.threads.create())["thread_id"]
    async for part in client.runs.stream(tid, "test", input=human("slow 10"), stream_mode="custom"):
        if part.event == "metadata":
            run_id = part.data["run_id"]
            break
    await await_until(lambda: _is(client, tid, run_id, "success"))
    state = await client.threads.get_state(tid)
    assert state["values"]["messages"][-1]["content"] == "slept 10 ticks"

    async for part in client.runs.stream(tid, "test", input=human("slow 300"), stream_mode="custom",
                                         on_disconnect="cancel"):
        if part.event == "custom":
            run_id = part.data and (await client.runs.list(tid, limit=1))[0]["run_id"]
            break
    await await_until(lambda: _is(client, tid, run_id, "interrupted"))


async def test_metrics_count_runs_and_stream_clients(api_server: ApiServer) -> None:
    async with api_server.http() as http:
        before = (await http.get("/metrics")).text
        await http.post("/runs/wait", json={"assistant_id": "test", "input": human("count me")})

        async def counted() -> str | None:  # the run is counted once settled, just after its result is out
            text = (await http.get("/metrics")).text
            moved = (sample(text, "dsa_runs_total", status="success") >= sample(before, "dsa_runs_total",
                                                                               status="success") + 1
                     and sample(text, "dsa_run_duration_seconds_count") >= sample(
                         before, "dsa_run_duration_seconds_count") + 1)
            return text if moved else None

        after = await await_until(counted)

        idle = sample(after, "dsa_stream_clients")
        client = api_server.client()
        tid = (await client.threads.create())["thread_id"]
        stream = client.runs.stream(tid, "test", input=human("slow 30"), stream_mode="custom")
        async for part in stream:
            if part.event == "custom":  # the server is streaming to us: we are one of its stream clients
                during = sample((await http.get("/metrics")).text, "dsa_stream_clients")
                break
        await stream.aclose()
        assert during >= idle + 1

        async def back_to_idle() -> bool:
            return sample((await http.get("/metrics")).text, "dsa_stream_clients") <= idle

        await await_until(back_to_idle)


async def test_after_seconds_delays_the_start(api_server: ApiServer) -> None:
    client = api_server.client()
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "test", input=human("later"), after_seconds=5)
    assert await _run_status(client, tid, run["run_id"]) == "pending"  # 5 s is longer than any stall here
    assert (await client.runs.join(tid, run["run_id"]))["messages"][-1]["content"] == "echo: later"
