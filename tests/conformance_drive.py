"""Every method of langgraph-sdk's client, called in one scripted conversation, each answer reduced to its shape.

Driven against our server by `tests/test_conformance.py` and against `langgraph dev` serving the same graphs by
`scripts/record_conformance.py`, which writes what the peer answered to `tests/specs/conformance/`. The shape
of an answer is what a client relies on: the HTTP status (200 for any success), the keys of an object (and the
JSON type of each value), the keys of a list's first item, and for a stream the event names it carried.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

Shape = dict[str, Any]
GRAPH, NESTED = "test", "nested"  # tests/api_helpers.py; tests/specs/conformance/langgraph.json serves the same
MONDAYS = "0 9 * * 1"
STREAM_MODES = ["values", "updates", "messages-tuple", "custom", "events", "debug", "tasks", "checkpoints"]


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def shape_of(value: Any) -> Shape:
    if isinstance(value, dict):
        return {"type": "object", "keys": {k: _type(v) for k, v in sorted(value.items())}}
    if isinstance(value, list | tuple):
        first = value[0] if value else None
        return {"type": "array", "item": shape_of(first)["keys"] if isinstance(first, dict) else _type(first)}
    return {"type": _type(value)}


def stream_shape(parts: list[Any]) -> Shape:
    names = sorted({p.event.split("|")[0] + ("|…" if "|" in p.event else "") for p in parts})
    return {"type": "stream", "events": names}


class Recorder:
    """Runs each step, keeping its status and shape under its label (a failure is recorded, not raised)."""

    def __init__(self) -> None:
        self.answers: dict[str, Shape] = {}
        self.called: set[str] = set()

    async def __call__(self, label: str, call: Callable[[], Awaitable[Any]], *, stream: bool = False) -> Any:
        self.called.add(label.split(" ")[0])
        try:
            value = await call()
        except httpx.HTTPStatusError as exc:
            self.answers[label] = {"status": exc.response.status_code}
            return None
        body = stream_shape(value) if stream else shape_of(value)
        self.answers[label] = {"status": 200, **body}
        return value


async def _parts(stream: Any) -> list[Any]:
    return [part async for part in stream]


def human(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


async def drive(client: Any) -> Recorder:  # noqa: PLR0915 - one scripted conversation, step by step
    rec = Recorder()
    tag = uuid.uuid4().hex

    # --- assistants ------------------------------------------------------------------------------------
    await rec("assistants.search", lambda: client.assistants.search(graph_id=GRAPH))
    await rec("assistants.count", lambda: client.assistants.count(graph_id=GRAPH))
    default = await rec("assistants.search default", lambda: client.assistants.search(graph_id=GRAPH, limit=1))
    default_id = default[0]["assistant_id"]
    await rec("assistants.get default", lambda: client.assistants.get(default_id))
    made = await rec("assistants.create", lambda: client.assistants.create(
        GRAPH, name="Formal", config={"configurable": {"tone": "formal"}}, metadata={"tag": tag}))
    aid = made["assistant_id"]
    await rec("assistants.get", lambda: client.assistants.get(aid))
    await rec("assistants.update", lambda: client.assistants.update(aid, metadata={"team": "legal"}))
    await rec("assistants.get_versions", lambda: client.assistants.get_versions(aid))
    await rec("assistants.set_latest", lambda: client.assistants.set_latest(aid, 1))
    await rec("assistants.search select", lambda: client.assistants.search(metadata={"tag": tag},
                                                                          select=["assistant_id", "name"]))
    await rec("assistants.get_graph", lambda: client.assistants.get_graph(aid))
    await rec("assistants.get_schemas", lambda: client.assistants.get_schemas(aid))
    nested_id = (await client.assistants.search(graph_id=NESTED, limit=1))[0]["assistant_id"]
    await rec("assistants.get_subgraphs", lambda: client.assistants.get_subgraphs(nested_id, recurse=True))
    await rec("assistants.get missing", lambda: client.assistants.get(str(uuid.uuid4())))

    # --- threads and runs on them ------------------------------------------------------------------------
    thread = await rec("threads.create", lambda: client.threads.create(metadata={"tag": tag}))
    tid = thread["thread_id"]
    await rec("threads.get", lambda: client.threads.get(tid))
    await rec("threads.update", lambda: client.threads.update(tid, metadata={"topic": "nda"}))
    await rec("threads.search", lambda: client.threads.search(metadata={"tag": tag}))
    await rec("threads.count", lambda: client.threads.count(metadata={"tag": tag}))
    await rec("runs.wait", lambda: client.runs.wait(tid, GRAPH, input=human("one")))
    for mode in STREAM_MODES:
        await rec(f"runs.stream {mode}", lambda mode=mode: _parts(client.runs.stream(
            tid, GRAPH, input=human(f"mode {mode}"), stream_mode=mode)), stream=True)
    await rec("runs.stream several", lambda: _parts(client.runs.stream(
        tid, GRAPH, input=human("several"), stream_mode=["values", "events", "custom"])), stream=True)
    state = await rec("threads.get_state", lambda: client.threads.get_state(tid))
    await rec("threads.update_state", lambda: client.threads.update_state(tid, {"messages": [
        {"role": "user", "content": "added"}]}))
    history = await rec("threads.get_history", lambda: client.threads.get_history(tid, limit=5))
    before = history[-1]["checkpoint"]["checkpoint_id"] if history else state["checkpoint"]["checkpoint_id"]
    await rec("threads.get_history before", lambda: client.threads.get_history(
        tid, limit=5, before={"configurable": {"checkpoint_id": before}}))

    run = await rec("runs.create", lambda: client.runs.create(tid, GRAPH, input=human("background")))
    await rec("runs.join", lambda: client.runs.join(tid, run["run_id"]))
    await rec("runs.get", lambda: client.runs.get(tid, run["run_id"]))
    await rec("runs.join_stream", lambda: _parts(client.runs.join_stream(tid, run["run_id"])), stream=True)
    await rec("runs.list", lambda: client.runs.list(tid, limit=3))
    await rec("runs.list select", lambda: client.runs.list(tid, select=["run_id", "status"]))
    slow = await rec("runs.create slow", lambda: client.runs.create(tid, GRAPH, input=human("slow 100")))
    await rec("runs.cancel", lambda: client.runs.cancel(tid, slow["run_id"], wait=True))
    queued = [await client.runs.create(tid, GRAPH, input=human("slow 100")) for _ in range(2)]
    await rec("runs.cancel_many", lambda: client.runs.cancel_many(thread_id=tid,
                                                                  run_ids=[r["run_id"] for r in queued]))
    for r in queued:  # settled before the next step (a cancelled pending run may already be gone)
        try:
            await client.runs.join(tid, r["run_id"])
        except httpx.HTTPStatusError:
            pass
    await rec("runs.delete", lambda: client.runs.delete(tid, run["run_id"]))
    await rec("runs.get missing", lambda: client.runs.get(tid, str(uuid.uuid4())))

    joined: list[Any] = []

    async def join_thread() -> None:
        async for part in await client.threads.join_stream(tid):
            joined.append(part)

    listener = asyncio.create_task(join_thread())
    try:
        watched = await client.runs.create(tid, GRAPH, input=human("watched"), stream_mode=["values"])
        await client.runs.join(tid, watched["run_id"])
        deadline = asyncio.get_running_loop().time() + 60
        while not any(p.event == "values" for p in joined) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    rec.called.add("threads.join_stream")
    rec.answers["threads.join_stream"] = {"status": 200, **stream_shape([p for p in joined if p.event != "end"])}

    nested = await client.threads.create()
    await rec("runs.stream subgraphs", lambda: _parts(client.runs.stream(
        nested["thread_id"], NESTED, input=human("deep"), stream_mode=["updates", "events"],
        stream_subgraphs=True)), stream=True)

    copied = await rec("threads.copy", lambda: client.threads.copy(tid))
    await rec("threads.prune", lambda: client.threads.prune([copied["thread_id"]]))

    # --- stateless runs -----------------------------------------------------------------------------------
    await rec("runs.wait stateless", lambda: client.runs.wait(None, GRAPH, input=human("alone")))
    await rec("runs.stream stateless", lambda: _parts(client.runs.stream(
        None, GRAPH, input=human("alone"), stream_mode=["updates"])), stream=True)
    batch = await rec("runs.create_batch", lambda: client.runs.create_batch([
        {"assistant_id": GRAPH, "input": human("b1")}, {"assistant_id": GRAPH, "input": human("b2")}]))
    for r in batch or []:  # each on a temporary thread, which may be gone once its run is over
        try:
            await client.runs.join(r["thread_id"], r["run_id"])
        except httpx.HTTPStatusError:
            pass

    # --- crons -------------------------------------------------------------------------------------------
    on_thread = await rec("crons.create_for_thread", lambda: client.crons.create_for_thread(
        tid, GRAPH, schedule=MONDAYS, input=human("weekly"), metadata={"tag": tag}))
    alone = await rec("crons.create", lambda: client.crons.create(
        GRAPH, schedule=MONDAYS, input=human("weekly"), metadata={"tag": tag}, timezone="Europe/Berlin",
        end_time=dt.datetime(2031, 1, 1, tzinfo=dt.UTC)))
    await rec("crons.search", lambda: client.crons.search(metadata={"tag": tag}))
    await rec("crons.search select", lambda: client.crons.search(thread_id=tid, select=["cron_id", "schedule"]))
    await rec("crons.count", lambda: client.crons.count(metadata={"tag": tag}))
    await rec("crons.update", lambda: client.crons.update(alone["cron_id"], enabled=False, schedule="0 10 * * 1"))
    await rec("crons.delete", lambda: client.crons.delete(alone["cron_id"]))
    await client.crons.delete(on_thread["cron_id"])
    await rec("crons.create bad schedule", lambda: client.crons.create(GRAPH, schedule="every monday"))

    # --- store -----------------------------------------------------------------------------------------
    space = ["conformance", tag]
    await rec("store.put_item", lambda: client.store.put_item(space, "bob", {"name": "Bob", "sent": 3}))
    await rec("store.get_item", lambda: client.store.get_item(space, "bob"))
    await rec("store.search_items", lambda: client.store.search_items(space, filter={"sent": {"$gt": 2}}))
    await rec("store.list_namespaces", lambda: client.store.list_namespaces(prefix=["conformance"]))
    await rec("store.delete_item", lambda: client.store.delete_item(space, "bob"))

    # --- deleting ------------------------------------------------------------------------------------------
    await rec("threads.delete", lambda: client.threads.delete(tid))
    await rec("threads.get deleted", lambda: client.threads.get(tid))
    await rec("assistants.delete", lambda: client.assistants.delete(aid))
    return rec
