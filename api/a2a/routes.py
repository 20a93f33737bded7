"""A2A at `/a2a/{assistant_id}` (JSON-RPC: `message/send`, `message/stream`, `tasks/get`, `tasks/cancel`) and
the agent card at `/.well-known/agent-card.json?assistant_id=...`, as langgraph-api serves them.

Every call is authenticated like the rest of the API and runs as that user: contexts are the user's threads and
tasks their runs (another user's id reads as not found). JSON-RPC errors are answered with HTTP 200 and a
JSON-RPC error object, as the protocol wants; the HTTP errors are the API's own (401, 404 for an unknown
assistant). See `api/a2a/protocol.py` for the mapping.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from api import turns
from api.a2a import protocol as p
from api.a2a.card import agent_card
from api.auth import CurrentPrincipal, Principal
from api.deps import AppSettings, Runtime
from api.responses import json_response, sse_response
from db.models import Run
from docusign_agent.settings import Settings
from runtime.runs import assistants, store
from runtime.runs.errors import RunsError
from runtime.runs.process import AgentRuntime
from runtime.runs.sse import with_heartbeats

router = APIRouter(tags=["a2a"])


@dataclass(frozen=True)
class Call:
    principal: Principal
    runtime: AgentRuntime
    settings: Settings
    assistant_id: str
    request_id: Any

    @property
    def user_id(self) -> uuid.UUID:
        return self.principal.user_id


@router.get("/.well-known/agent-card.json", summary="The A2A agent card of an assistant (default: agent)",
            responses={401: {"description": "A user's own assistant asked for without credentials"},
                       404: {"description": "No assistant of yours, and no graph, by that id"},
                       409: {"description": "The token's email belongs to another user"}})
async def card(request: Request, rt: Runtime, settings: AppSettings,
               assistant_id: Annotated[str, Query(min_length=1, max_length=100)] = "agent") -> Response:
    """Public for the served graphs (what discovery needs); a user's own assistant needs their credentials."""
    graph_id, name, description = rt.graphs.resolve(assistant_id), assistant_id, None
    if graph_id is None:
        principal = await request.app.state.authenticator.authenticate(
            request.headers.get("authorization"), request.headers.get("x-api-key"))
        async with rt.runs.db.user_session(principal.user_id) as session:
            row = await assistants.require(session, assistant_id)
        graph_id, name, description = row.graph_id, row.name or assistant_id, row.description
    return json_response(agent_card(settings, assistant_id, name=name, description=description, graph_id=graph_id))


@router.post("/a2a/{assistant_id}", summary="A2A JSON-RPC: message/send, message/stream, tasks/get, tasks/cancel")
async def a2a(assistant_id: str, request: Request, principal: CurrentPrincipal, rt: Runtime,
              settings: AppSettings) -> Response:
    async with rt.runs.db.user_session(principal.user_id) as session:
        await assistants.resolve(session, rt.graphs, assistant_id)  # an unknown assistant is the API's 404
    try:
        envelope = p.parse_envelope(await request.body())
    except p.RpcError as exc:
        return json_response(exc.body(None))
    call = Call(principal, rt, settings, assistant_id, envelope.id)
    method = METHODS.get(envelope.method)
    try:
        if method is None:
            raise p.RpcError(p.METHOD_NOT_FOUND, f"method: {envelope.method!r} is not one of "
                             f"{', '.join(METHODS)}", field="method")
        return await method(call, envelope.params)
    except p.RpcError as exc:
        return json_response(exc.body(envelope.id))


# --- the methods -----------------------------------------------------------------------------------------


async def _start(call: Call, params: p.SendParams, *, stream_mode: list[str]) -> Run:
    message = params.message
    if message.role != "user":
        raise p.RpcError(p.INVALID_PARAMS, "params.message.role: send the message as role 'user'",
                         field="params.message.role")
    text = p.message_text(message)
    if not text.strip():
        raise p.RpcError(p.INVALID_PARAMS, "params.message.parts: the message has no text", field="params.message.parts")
    field = "params.message.contextId"
    thread_id = p.uuid_param(message.context_id, field) if message.context_id else uuid.uuid4()
    async with call.runtime.runs.db.user_session(call.user_id) as session:
        thread = await store.get_thread(session, thread_id)
    if thread is not None and thread.status == "interrupted":
        raise p.RpcError(p.INVALID_PARAMS, f"{field}: this conversation is waiting for the person's decision in the "
                         f"chat page ({call.settings.base_url}/t/{thread_id}); nothing was sent. Ask again once "
                         "they have decided (tasks/get tells the state).", field=field)
    try:
        return await turns.start(call.runtime, call.user_id, thread_id, text, assistant_id=call.assistant_id,
                                 source="a2a", stream_mode=stream_mode, metadata={"a2a_message_id": message.message_id})
    except RunsError as exc:
        raise p.RpcError(p.INVALID_PARAMS, f"{field}: {exc.message}", field=field) from None


def _finished(call: Call, run: Run, values: dict[str, Any]) -> tuple[p.TaskState, str]:
    """How a run that ended reads: its state and the agent's words (or why it failed, or what it waits for)."""
    if (error := turns.error_of(values)) is not None:
        return "failed", error
    if run.status == "interrupted":
        return "canceled", "The task was cancelled."
    answer = turns.answer_of(values)
    if pending := turns.waiting_for(values):
        waiting = turns.waiting_sentence(pending, base_url=call.settings.base_url, thread_id=run.thread_id)
        return "input-required", (answer + "\n\n" if answer else "") + waiting
    return "completed", answer


def _task(call: Call, run: Run, state: p.TaskState, text: str | None,
          history: list[dict[str, Any]] | None) -> dict[str, Any]:
    task_id, context_id = str(run.run_id), str(run.thread_id)
    artifacts = [p.answer_artifact(task_id, text)] if state == "completed" and text else None
    return p.task(task_id=task_id, context_id=context_id, state=state, text=text, history=history,
                  artifacts=artifacts, metadata={"assistant_id": call.assistant_id})


async def message_send(call: Call, raw: dict[str, Any] | None) -> Response:
    params: p.SendParams = p.parse_params(p.SendParams, raw)
    run = await _start(call, params, stream_mode=["values"])
    asked = p.user_message(params.message, context_id=str(run.thread_id), task_id=str(run.run_id))
    if (params.configuration or {}).get("blocking") is False:
        return json_response(p.success(call.request_id, _task(call, run, "submitted", None, [asked])))
    values = await turns.values_of(call.runtime, call.user_id, run)
    run = await _reload(call, run)
    state, text = _finished(call, run, values)
    answer = p.agent_message(text, context_id=str(run.thread_id), task_id=str(run.run_id)) if text else None
    return json_response(p.success(call.request_id, _task(call, run, state, text,
                                                          [asked, *([answer] if answer else [])])))


async def message_stream(call: Call, raw: dict[str, Any] | None) -> Response:
    params: p.SendParams = p.parse_params(p.SendParams, raw)
    run = await _start(call, params, stream_mode=["values", "messages-tuple"])
    asked = p.user_message(params.message, context_id=str(run.thread_id), task_id=str(run.run_id))
    return sse_response(with_heartbeats(_stream(call, run, asked), heartbeat=call.runtime.runs.heartbeat_seconds))


async def _stream(call: Call, run: Run, asked: dict[str, Any]) -> AsyncIterator[bytes]:
    ids = {"task_id": str(run.run_id), "context_id": str(run.thread_id)}

    def frame(result: dict[str, Any]) -> bytes:
        return b"data: " + orjson.dumps(p.success(call.request_id, result)) + b"\n\n"

    yield frame(_task(call, run, "submitted", None, [asked]))
    yield frame(p.status_update(**ids, state="working", final=False))
    current: str | None = None  # the id of the model message being streamed into the answer artifact
    async for event, data in call.runtime.runs.events(call.user_id, run.thread_id, run.run_id):
        if event.split("|")[0] != "messages":
            continue
        chunk, metadata = orjson.loads(data)
        text = turns.text_of(chunk) if isinstance(chunk, dict) else ""
        if not text or chunk.get("type") not in ("AIMessageChunk", "ai") or metadata.get("langgraph_node") != "model":
            continue
        # A new model message starts the answer over (the text before a tool call was not the answer).
        yield frame(p.artifact_update(**ids, text=text, append=chunk.get("id") == current, last=False))
        current = chunk.get("id")
    values = orjson.loads(await call.runtime.runs.saved_result(call.user_id, run.thread_id, run.run_id))
    state, text = _finished(call, await _reload(call, run), values)
    if state == "completed" and text:
        yield frame(p.artifact_update(**ids, text=text, append=False, last=True))
    yield frame(p.status_update(**ids, state=state, final=True, text=text))


async def _reload(call: Call, run: Run) -> Run:
    async with call.runtime.runs.db.user_session(call.user_id) as session:
        return await store.get_run(session, run.thread_id, run.run_id) or run


async def _find(call: Call, task_id: str) -> Run:
    run_id = p.uuid_param(task_id, "params.id")
    async with call.runtime.runs.db.user_session(call.user_id) as session:
        run = await store.find_run(session, run_id)
    if run is None:
        raise p.RpcError(p.TASK_NOT_FOUND, f"params.id: there is no task {task_id}", field="params.id")
    return run


async def tasks_get(call: Call, raw: dict[str, Any] | None) -> Response:
    query: p.TaskQuery = p.parse_params(p.TaskQuery, raw)
    run = await _find(call, query.id)
    if run.status in store.ACTIVE:
        state: p.TaskState = "submitted" if run.status == "pending" else "working"
        return json_response(p.success(call.request_id, _task(call, run, state, None, None)))
    values = orjson.loads(await call.runtime.runs.saved_result(call.user_id, run.thread_id, run.run_id))
    state, text = _finished(call, run, values)
    history = p.history_of(values, context_id=str(run.thread_id), task_id=str(run.run_id),
                           limit=query.history_length)
    return json_response(p.success(call.request_id, _task(call, run, state, text, history)))


async def tasks_cancel(call: Call, raw: dict[str, Any] | None) -> Response:
    ref: p.TaskRef = p.parse_params(p.TaskRef, raw)
    run = await _find(call, ref.id)
    if run.status not in store.ACTIVE:
        raise p.RpcError(p.TASK_NOT_CANCELABLE, f"params.id: task {ref.id} has already finished ({run.status})",
                         field="params.id")
    try:
        await call.runtime.runs.cancel(call.user_id, run.thread_id, run.run_id, "interrupt")
    except RunsError as exc:
        raise p.RpcError(p.TASK_NOT_CANCELABLE, f"params.id: {exc.message}", field="params.id") from None
    return json_response(p.success(call.request_id, _task(call, run, "canceled", "The task was cancelled.", None)))


METHODS: dict[str, Callable[[Call, dict[str, Any] | None], Awaitable[Response]]] = {
    "message/send": message_send, "message/stream": message_stream, "tasks/get": tasks_get,
    "tasks/cancel": tasks_cancel,
}
