"""Threads and runs beyond one run: copy, prune, history (GET, typed `before`), supersteps on create, the
thread's own stream, run batches, cancelling many runs, `select` on run lists, stateless stream modes."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.api_helpers import ApiServer, api_server, await_until, human, parse_sse  # noqa: F401


async def test_copy_keeps_state_and_history(api_server: ApiServer) -> None:
    client = api_server.client("copy")
    thread = await client.threads.create(metadata={"topic": "nda"})
    tid = thread["thread_id"]
    await client.runs.wait(tid, "test", input=human("one"))
    await client.runs.wait(tid, "test", input=human("two"))
    copy = await client.threads.copy(tid)
    assert copy["thread_id"] != tid and copy["metadata"]["topic"] == "nda" and copy["status"] == "idle"
    assert (await client.threads.get_state(copy["thread_id"]))["values"] == (await client.threads.get_state(tid))["values"]
    assert len(await client.threads.get_history(copy["thread_id"], limit=100)) == len(
        await client.threads.get_history(tid, limit=100))
    result = await client.runs.wait(copy["thread_id"], "test", input=human("three"))  # the copy goes on alone
    assert [m["content"] for m in result["messages"]][-1] == "echo: three"
    assert len((await client.threads.get_state(tid))["values"]["messages"]) == 4
    with pytest.raises(httpx.HTTPStatusError) as missing:
        await api_server.client("copy-stranger").threads.copy(tid)
    assert missing.value.response.status_code == 404


async def test_prune_delete_and_keep_latest(api_server: ApiServer) -> None:
    client = api_server.client("prune")
    kept, gone = (await client.threads.create())["thread_id"], (await client.threads.create())["thread_id"]
    for tid in (kept, gone):
        await client.runs.wait(tid, "test", input=human("a"))
        await client.runs.wait(tid, "test", input=human("b"))
    assert len(await client.threads.get_history(kept, limit=100)) > 1
    strangers = (await api_server.client("prune-stranger").threads.create())["thread_id"]
    assert await client.threads.prune([kept, strangers], strategy="keep_latest") == {"pruned_count": 1}
    history = await client.threads.get_history(kept, limit=100)
    assert len(history) == 1 and len(history[0]["values"]["messages"]) == 4
    assert await client.threads.prune([gone, strangers]) == {"pruned_count": 1}
    with pytest.raises(httpx.HTTPStatusError):
        await client.threads.get(gone)
    assert (await api_server.client("prune-stranger").threads.get(strangers))["thread_id"] == strangers
    async with api_server.http("prune") as http:
        bad = await http.post("/threads/prune", json={"thread_ids": [kept], "strategy": "all"})
        assert bad.status_code == 422 and bad.json()["field"] == "strategy"


async def test_history_get_and_typed_before(api_server: ApiServer) -> None:
    client = api_server.client("history")
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "test", input=human("first"))
    history = await client.threads.get_history(tid, limit=100)
    newest = history[0]["checkpoint"]["checkpoint_id"]
    typed = await client.threads.get_history(tid, before={"configurable": {"checkpoint_id": newest}})
    plain = await client.threads.get_history(tid, before=newest)
    assert typed == plain == history[1:] and typed
    async with api_server.http("history") as http:
        got = await http.get(f"/threads/{tid}/history", params={"limit": 2, "before": newest})
        assert got.status_code == 200 and got.json() == history[1:3]
        assert (await http.get(f"/threads/{tid}/history", params={"limit": 0})).status_code == 422


async def test_supersteps_on_create(api_server: ApiServer) -> None:
    client = api_server.client("supersteps")
    thread = await client.threads.create(metadata={"graph_id": "test"}, supersteps=[
        {"updates": [{"values": {"messages": [{"role": "user", "content": "hello"}]}, "as_node": "__start__"}]},
        {"updates": [{"values": {"messages": [{"role": "ai", "content": "hi there"}]}, "as_node": "respond"}]},
    ])
    assert [m["content"] for m in thread["values"]["messages"]] == ["hello", "hi there"]
    assert thread["status"] == "idle"
    assert len(await client.threads.get_history(thread["thread_id"], limit=100)) >= 2
    before = await client.threads.count()
    async with api_server.http("supersteps") as http:
        for steps in ([{"updates": []}], [{"updates": [{"values": {}, "as_node": "nowhere"}]}]):
            bad = await http.post("/threads", json={"metadata": {"graph_id": "test"}, "supersteps": steps})
            assert bad.status_code == 422 and bad.json()["field"] == "supersteps", bad.text
        bad = await http.post("/threads", json={"metadata": {"graph_id": "nope"}, "supersteps": [{"updates": []}]})
        assert bad.status_code == 422 and bad.json()["field"] == "metadata.graph_id"
    assert await client.threads.count() == before  # a refused create leaves no thread behind


async def test_thread_stream_joins_every_run(api_server: ApiServer) -> None:
    client = api_server.client("thread-stream")
    tid = (await client.threads.create())["thread_id"]
    seen: list[tuple[str, Any]] = []

    async def listen() -> None:
        async for part in await client.threads.join_stream(tid, stream_mode=["run_modes", "state_update"]):
            seen.append((part.event, part.data))

    def done_runs() -> list[str]:
        if listener.done():
            listener.result()  # the stream failed: say why
        return [d["run_id"] for e, d in seen if e == "metadata" and isinstance(d, dict) and d.get("status") == "run_done"]

    listener = asyncio.create_task(listen())
    try:
        first = await client.runs.create(tid, "test", input=human("one"))
        await await_until(lambda: first["run_id"] in done_runs(), timeout=60)
        second = await client.runs.create(tid, "test", input=human("two"))
        await await_until(lambda: second["run_id"] in done_runs(), timeout=60)
        await client.threads.update_state(tid, {"messages": [{"role": "ai", "content": "by hand"}]}, as_node="respond")
        await await_until(lambda: any(e == "state_update" for e, _ in seen), timeout=60)
    finally:
        listener.cancel()
    contents = [m["content"] for e, d in seen if e == "values" for m in d["messages"]]
    assert "echo: one" in contents and "echo: two" in contents
    assert [d["run_id"] for e, d in seen if e == "metadata" and "attempt" in d] == [first["run_id"], second["run_id"]]
    update = next(d for e, d in seen if e == "state_update")
    assert update["thread_id"] == tid and update["state"]["values"]["messages"][-1]["content"] == "by hand"
    async with api_server.http("thread-stream") as http:
        bad = await http.get(f"/threads/{tid}/stream", params={"stream_modes": "everything"})
        assert bad.status_code == 422 and bad.json()["field"] == "stream_modes"
        assert (await http.get(f"/threads/{uuid.uuid4()}/stream")).status_code == 404
    async with api_server.http("thread-stream-stranger") as http:
        assert (await http.get(f"/threads/{tid}/stream")).status_code == 404


async def test_batch_is_all_or_nothing(api_server: ApiServer) -> None:
    client = api_server.client("batch")
    runs = await client.runs.create_batch([{"assistant_id": "test", "input": human("a")},
                                           {"assistant_id": "test", "input": human("b"), "on_completion": "keep"}])
    assert len(runs) == 2 and all(set(r) >= {"run_id", "thread_id", "status", "kwargs"} for r in runs)
    kept = runs[1]
    await client.runs.join(kept["thread_id"], kept["run_id"])
    assert (await client.runs.get(kept["thread_id"], kept["run_id"]))["status"] == "success"
    before = await client.threads.count()
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await client.runs.create_batch([{"assistant_id": "test", "input": human("c")}, {"assistant_id": "nope"}])
    assert refused.value.response.status_code == 404
    assert await client.threads.count() == before
    async with api_server.http("batch") as http:
        assert (await http.post("/runs/batch", json=[])).status_code == 422


async def test_cancel_many_and_select(api_server: ApiServer) -> None:
    client = api_server.client("cancel-many")
    tid = (await client.threads.create())["thread_id"]
    slow = await client.runs.create(tid, "test", input=human("slow 300"))
    queued = await client.runs.create(tid, "test", input=human("after"), multitask_strategy="enqueue")
    await await_until(lambda: _status(client, tid, slow["run_id"], "running"), timeout=60)
    await client.runs.cancel_many(thread_id=tid, run_ids=[slow["run_id"], queued["run_id"]])
    for run in (slow, queued):
        await await_until(lambda r=run: _status(client, tid, r["run_id"], "interrupted"), timeout=60)
    listed = await client.runs.list(tid, select=["run_id", "status"])
    assert {tuple(sorted(r)) for r in listed} == {("run_id", "status")}

    other = (await client.threads.create())["thread_id"]
    waiting = await client.runs.create(other, "test", input=human("later"), after_seconds=600)
    await client.runs.cancel_many(status="pending")
    await await_until(lambda: _status(client, other, waiting["run_id"], "interrupted"), timeout=60)
    async with api_server.http("cancel-many") as http:
        for body in ({}, {"run_ids": [slow["run_id"]]}, {"status": "all", "thread_id": tid, "run_ids": []}):
            assert (await http.post("/runs/cancel", json=body)).status_code == 422, body
        finished = await http.post("/runs/cancel", json={"thread_id": tid, "run_ids": [slow["run_id"]]})
        assert finished.status_code == 409


async def _status(client: Any, tid: str, rid: str, status: str) -> bool:
    return (await client.runs.get(tid, rid))["status"] == status


async def test_stateless_stream_sends_only_the_modes_asked_for(api_server: ApiServer) -> None:
    async with api_server.http("stateless-modes") as http:
        for modes, expected in ((["updates"], {"updates"}), (["messages-tuple"], {"messages"}), (["custom"], {"custom"})):
            response = await http.post("/runs/stream", json={"assistant_id": "test", "input": human("hi"),
                                                             "stream_mode": modes})
            events = {e for e, _, _ in parse_sse(response.content)} - {"metadata", "end"}
            assert events == expected, (modes, events)
