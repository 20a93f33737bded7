"""`/threads`: create, read, search, patch, delete, and the thread's graph state and history.

Every query runs in the caller's `user_session`, so another user's thread is simply not there (404).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Response
from fastapi.responses import StreamingResponse
from langgraph.errors import InvalidUpdateError

from agent.guard import check_update, infer_as_node
from api.auth import CurrentPrincipal
from api.deps import Runtime
from api.errors import ApiError
from api.params import check_last_event_id, parse_uuid
from api.responses import json_response, sse_response
from api.threads.schemas import (
    ThreadCount,
    ThreadCreate,
    ThreadHistory,
    ThreadPatch,
    ThreadPrune,
    ThreadSearch,
    ThreadStateCheckpoint,
    ThreadStateUpdate,
)
from runtime.runs import store
from runtime.runs.errors import thread_id_unavailable
from runtime.runs.executor import snapshot_summary
from runtime.runs.graphs import GraphUnavailable
from runtime.runs.process import AgentRuntime
from runtime.runs.threads import THREAD_STREAM_MODES
from runtime.runs.thread_state import checkpoint_of, state_json, thread_config

router = APIRouter(tags=["threads"])

# What a graph's channels raise for values they cannot take (LangGraph's own check, a reducer such as
# `add_messages` coercing `5` into messages, a missing node): the update is refused before any checkpoint.
UPDATE_REFUSALS = (InvalidUpdateError, ValueError, KeyError, TypeError, NotImplementedError, AttributeError)



@router.post("/threads", summary="Create a thread")
async def create_thread(principal: CurrentPrincipal, rt: Runtime,
                        body: Annotated[ThreadCreate | None, Body()] = None) -> Response:
    body = body or ThreadCreate()
    thread_id = parse_uuid(body.thread_id, "thread_id") if body.thread_id else None
    if body.supersteps:
        graph_id = str((body.metadata or {}).get("graph_id") or "agent")
        if rt.graphs.resolve(graph_id) is None:
            raise ApiError(422, "invalid_request", f"metadata.graph_id: {graph_id!r} is not a graph served here",
                           field="metadata.graph_id")
    async with rt.runs.db.user_session(principal.user_id) as session:
        row = await store.insert_thread(session, principal.user_id, thread_id, body.metadata or {})
        if row is None:
            existing = await store.get_thread(session, thread_id) if thread_id else None
            if existing is None:  # another user's, or reserved: the same answer either way
                raise thread_id_unavailable(thread_id)
            if body.if_exists == "do_nothing":
                return json_response(store.thread_json(existing))
            raise ApiError(409, "conflict", f"thread {thread_id} already exists", field="thread_id")
    if body.supersteps:
        try:
            row = await rt.threads.apply_supersteps(principal.user_id, row, body.supersteps)
        except BaseException:
            await rt.runs.delete_thread(principal.user_id, row.thread_id)  # a refused create leaves nothing
            raise
    return json_response(store.thread_json(row))


@router.post("/threads/search", summary="Search your threads")
async def search_threads(principal: CurrentPrincipal, rt: Runtime,
                         body: Annotated[ThreadSearch | None, Body()] = None) -> Response:
    body = body or ThreadSearch()
    ids = [parse_uuid(i, "ids") for i in body.ids] if body.ids else None
    async with rt.runs.db.user_session(principal.user_id) as session:
        rows = await store.search_threads(session, metadata=body.metadata, values=body.values, status=body.status,
                                          ids=ids, limit=body.limit, offset=body.offset, sort_by=body.sort_by,
                                          sort_order=body.sort_order)
    return json_response([store.select_fields(store.thread_json(r), body.select) for r in rows])


@router.post("/threads/count", summary="Count your threads")
async def count_threads(principal: CurrentPrincipal, rt: Runtime,
                        body: Annotated[ThreadCount | None, Body()] = None) -> Response:
    body = body or ThreadCount()
    async with rt.runs.db.user_session(principal.user_id) as session:
        count = await store.count_threads(session, metadata=body.metadata, values=body.values, status=body.status)
    return json_response(count)


@router.post("/threads/prune", summary="Delete threads, or keep only their latest checkpoint")
async def prune_threads(body: ThreadPrune, principal: CurrentPrincipal, rt: Runtime) -> Response:
    ids = [parse_uuid(i, "thread_ids") for i in body.thread_ids]
    return json_response({"pruned_count": await rt.threads.prune(principal.user_id, ids, body.strategy)})


@router.get("/threads/{thread_id}", summary="Get a thread")
async def get_thread(thread_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime) -> Response:
    async with rt.runs.db.user_session(principal.user_id) as session:
        return json_response(store.thread_json(await store.require_thread(session, thread_id)))


@router.patch("/threads/{thread_id}", summary="Merge metadata into a thread")
async def patch_thread(thread_id: uuid.UUID, body: ThreadPatch, principal: CurrentPrincipal,
                       rt: Runtime) -> Response:
    async with rt.runs.db.user_session(principal.user_id) as session:
        await store.require_thread(session, thread_id, lock=True)
        await store.merge_thread_metadata(session, thread_id, body.metadata)
    async with rt.runs.db.user_session(principal.user_id) as session:
        return json_response(store.thread_json(await store.require_thread(session, thread_id)))


@router.post("/threads/{thread_id}/copy", summary="Copy a thread: metadata, state and history")
async def copy_thread(thread_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime) -> Response:
    copy = await rt.threads.copy(principal.user_id, thread_id)
    return json_response(store.thread_json(copy))


@router.get("/threads/{thread_id}/stream", summary="Join every run of the thread as it comes (SSE)")
async def join_thread_stream(thread_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime,
                             last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                             stream_mode: Annotated[list[str] | None, Query()] = None,
                             stream_modes: Annotated[list[str] | None, Query()] = None) -> StreamingResponse:
    """The Python SDK sends `stream_mode` (repeated), langgraph-api reads `stream_modes` (comma-separated): both."""
    raw_modes = [*(stream_mode or []), *(stream_modes or [])]
    modes = [m.strip() for raw in raw_modes for m in raw.split(",") if m.strip()] or ["run_modes"]
    unknown = [m for m in modes if m not in THREAD_STREAM_MODES]
    if unknown:
        raise ApiError(422, "invalid_request", f"stream_modes: unknown mode {unknown[0]!r}; use "
                       f"{', '.join(THREAD_STREAM_MODES)}", field="stream_modes")
    if last_event_id:
        check_last_event_id(rt.bus, last_event_id)
    await rt.threads.check_streamable(principal.user_id, thread_id)
    return sse_response(rt.threads.stream(principal.user_id, thread_id, last_id=last_event_id or None,
                                          modes=modes))


@router.delete("/threads/{thread_id}", status_code=204, summary="Delete a thread, its runs and checkpoints")
async def delete_thread(thread_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime) -> Response:
    await rt.runs.delete_thread(principal.user_id, thread_id)
    return Response(status_code=204)


# --- state -------------------------------------------------------------------------------------------------


async def _graph_for(rt: AgentRuntime, principal_id: uuid.UUID, thread_id: uuid.UUID) -> tuple[Any, Any]:
    async with rt.runs.db.user_session(principal_id) as session:
        thread = await store.require_thread(session, thread_id)
    graph_id = (thread.metadata_ or {}).get("graph_id") or "agent"
    if rt.graphs.resolve(graph_id) is None:
        raise ApiError(409, "unknown_graph", f"the thread's graph {graph_id!r} is not served here")
    try:
        return thread, rt.graph_for(rt.graphs.resolve(graph_id), principal_id)  # type: ignore[arg-type]
    except GraphUnavailable as exc:
        raise ApiError(503, "graph_unavailable", str(exc)) from None


async def _state(rt: AgentRuntime, principal_id: uuid.UUID, thread_id: uuid.UUID,
                 checkpoint: dict[str, Any] | None, subgraphs: bool) -> Response:
    config = thread_config(str(thread_id), checkpoint)
    if await rt.checkpointer_for(principal_id).aget_tuple(config) is None:  # nothing ran yet: no graph needed to say so
        async with rt.runs.db.user_session(principal_id) as session:
            await store.require_thread(session, thread_id)
        if checkpoint and checkpoint.get("checkpoint_id"):
            raise ApiError(404, "not_found", "checkpoint not found", field="checkpoint_id")
        return json_response({"values": {}, "next": [], "tasks": [], "metadata": None, "created_at": None,
                      "checkpoint": None, "parent_checkpoint": None, "interrupts": [], "checkpoint_id": None,
                      "parent_checkpoint_id": None})
    _, graph = await _graph_for(rt, principal_id, thread_id)
    state = await graph.aget_state(config, subgraphs=subgraphs)
    return json_response(state_json(state))


@router.get("/threads/{thread_id}/state", summary="The thread's current state")
async def get_state(thread_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime,
                    subgraphs: Annotated[bool, Query()] = False) -> Response:
    return await _state(rt, principal.user_id, thread_id, None, subgraphs)


@router.get("/threads/{thread_id}/state/{checkpoint_id}", summary="The thread's state at a checkpoint")
async def get_state_at(thread_id: uuid.UUID, checkpoint_id: uuid.UUID, principal: CurrentPrincipal,
                       rt: Runtime, subgraphs: Annotated[bool, Query()] = False) -> Response:
    return await _state(rt, principal.user_id, thread_id, {"checkpoint_id": str(checkpoint_id)}, subgraphs)


@router.post("/threads/{thread_id}/state/checkpoint", summary="The thread's state at a checkpoint")
async def post_state_at(thread_id: uuid.UUID, body: ThreadStateCheckpoint, principal: CurrentPrincipal,
                        rt: Runtime) -> Response:
    return await _state(rt, principal.user_id, thread_id, body.checkpoint.model_dump(exclude_none=True),
                        body.subgraphs)


@router.post("/threads/{thread_id}/state", summary="Update the thread's state (as if a node wrote it)")
async def update_state(thread_id: uuid.UUID, body: ThreadStateUpdate, principal: CurrentPrincipal,
                       rt: Runtime) -> Response:
    thread, graph = await _graph_for(rt, principal.user_id, thread_id)
    if thread.status == "busy":
        raise ApiError(409, "thread_busy", "the thread has a run in progress; update its state afterwards")
    checkpoint = body.checkpoint.model_dump(exclude_none=True) if body.checkpoint else None
    config = thread_config(str(thread_id), checkpoint, body.checkpoint_id)
    # Acting as the gate or the tool node, or writing the fields the agent keeps, is refused (422, nothing stored).
    check_update(graph, body.values, body.as_node,
                 inferred=await infer_as_node(graph, config) if body.as_node is None else None)
    try:
        new_config = await graph.aupdate_state(config, body.values, as_node=body.as_node)
    except UPDATE_REFUSALS as exc:  # the channels' reducers refused the values: nothing was written
        raise ApiError(422, "invalid_request", f"values: {str(exc).splitlines()[0]}", field="values") from None
    snapshot = await graph.aget_state(thread_config(str(thread_id)))
    values, interrupts = snapshot_summary(snapshot)
    async with rt.runs.db.user_session(principal.user_id) as session:
        await store.set_thread_state(session, thread_id, values=values, interrupts=interrupts,
                                     status="interrupted" if snapshot.next else "idle")
    await rt.threads.state_updated(thread_id, snapshot)
    written = checkpoint_of(new_config)  # langgraph-api's three ways of saying which checkpoint was written
    return json_response({"checkpoint": written, "checkpoint_id": (written or {}).get("checkpoint_id"),
                          "configurable": written})


@router.post("/threads/{thread_id}/history", summary="Past states of the thread, newest first")
async def history(thread_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime,
                  body: Annotated[ThreadHistory | None, Body()] = None) -> Response:
    body = body or ThreadHistory()
    if await rt.checkpointer_for(principal.user_id).aget_tuple(thread_config(str(thread_id))) is None:
        async with rt.runs.db.user_session(principal.user_id) as session:
            await store.require_thread(session, thread_id)
        return json_response([])
    _, graph = await _graph_for(rt, principal.user_id, thread_id)
    before_id = body.before_checkpoint_id()
    before_config = thread_config(str(thread_id), checkpoint_id=before_id) if before_id else None
    checkpoint = body.checkpoint.model_dump(exclude_none=True) if body.checkpoint else None
    states = [state_json(s) async for s in graph.aget_state_history(
        thread_config(str(thread_id), checkpoint), filter=body.metadata, before=before_config,
        limit=body.limit)]
    return json_response(states)


@router.get("/threads/{thread_id}/history", summary="Past states of the thread, newest first")
async def history_get(thread_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 10,
                      before: Annotated[str | None, Query()] = None) -> Response:
    return await history(thread_id, principal, rt, ThreadHistory(limit=limit, before=before))

