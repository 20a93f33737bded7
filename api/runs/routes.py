"""Runs: create (background, streamed, waited), list, get, join, reconnect, cancel, delete; stateless runs.

Streaming responses carry `Content-Location: /threads/{tid}/runs/{rid}` and `Location: .../stream` (or
`.../join` for waits), which is where the SDK reconnects after a dropped connection, with `Last-Event-ID`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Response
from fastapi.responses import StreamingResponse

from api.runs import attachments
from api.auth import CurrentPrincipal
from api.deps import AppSettings, Runtime
from api.errors import ApiError
from api.params import OffsetQuery, check_last_event_id, parse_uuid
from api.responses import json_response, sse_response
from db.models import Run
from runtime.runs import serde, store
from runtime.runs.process import AgentRuntime
from runtime.runs.schemas import RunCreate, RunsCancel, RunStatus, stream_modes

router = APIRouter(tags=["runs"])


async def _input_files(settings: AppSettings) -> attachments.InputFiles:
    return attachments.InputFiles(settings.max_upload_bytes, settings.max_body_bytes)


# Files inside the input's messages are stored as documents in the transaction that creates the run.
Files = Annotated[attachments.InputFiles, Depends(_input_files)]

def _where(run: Run, tail: str) -> dict[str, str]:
    base = f"/threads/{run.thread_id}/runs/{run.run_id}"
    return {"Content-Location": base, "Location": f"{base}/{tail}"}


async def _stream_new(rt: AgentRuntime, principal_id: uuid.UUID, thread_id: uuid.UUID | None,
                      body: RunCreate, files: attachments.InputFiles) -> StreamingResponse:
    run = await rt.runs.create(principal_id, thread_id, body, prepare_input=files.store)
    # A stateless run also streams `values` for its result; only the modes asked for are sent.
    events = rt.runs.stream(principal_id, run.thread_id, run.run_id, last_id=None,
                            modes=body.stream_mode if thread_id is None else None,
                            cancel_on_disconnect=body.on_disconnect == "cancel")
    return sse_response(events, headers=_where(run, "stream"))


async def _wait_new(rt: AgentRuntime, principal_id: uuid.UUID, thread_id: uuid.UUID | None,
                    body: RunCreate, files: attachments.InputFiles) -> StreamingResponse:
    run = await rt.runs.create(principal_id, thread_id, body, prepare_input=files.store)
    result = rt.runs.result(principal_id, run.thread_id, run.run_id,
                            cancel_on_disconnect=body.on_disconnect == "cancel")
    return StreamingResponse(result, media_type="application/json", headers=_where(run, "join"))


# --- on a thread -------------------------------------------------------------------------------------------


@router.post("/threads/{thread_id}/runs/stream", summary="Create a run and stream its events (SSE)")
async def stream_run(thread_id: uuid.UUID, body: RunCreate, principal: CurrentPrincipal, files: Files,
                     rt: Runtime) -> StreamingResponse:
    return await _stream_new(rt, principal.user_id, thread_id, body, files)


@router.post("/threads/{thread_id}/runs/wait", summary="Create a run and wait for its final values")
async def wait_run(thread_id: uuid.UUID, body: RunCreate, principal: CurrentPrincipal, files: Files,
                   rt: Runtime) -> StreamingResponse:
    return await _wait_new(rt, principal.user_id, thread_id, body, files)


@router.post("/threads/{thread_id}/runs", summary="Create a background run")
async def create_run(thread_id: uuid.UUID, body: RunCreate, principal: CurrentPrincipal, files: Files,
                     rt: Runtime) -> Response:
    run = await rt.runs.create(principal.user_id, thread_id, body,
                               prepare_input=files.store)
    return json_response(store.run_json(run), headers={"Content-Location": _where(run, "")["Content-Location"]})


@router.get("/threads/{thread_id}/runs", summary="List the thread's runs, newest first")
async def list_runs(thread_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 10, offset: OffsetQuery = 0,
                    status: Annotated[RunStatus | None, Query()] = None,
                    select: Annotated[list[str] | None, Query()] = None) -> Response:
    async with rt.runs.db.user_session(principal.user_id) as session:
        await store.require_thread(session, thread_id)
        runs = await store.list_runs(session, thread_id, limit=limit, offset=offset, status=status)
    return json_response([store.select_fields(store.run_json(r), select) for r in runs])


async def _run(rt: AgentRuntime, principal_id: uuid.UUID, thread_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    async with rt.runs.db.user_session(principal_id) as session:
        await store.require_thread(session, thread_id)
        return await store.require_run(session, thread_id, run_id)


@router.get("/threads/{thread_id}/runs/{run_id}", summary="Get a run")
async def get_run(thread_id: uuid.UUID, run_id: uuid.UUID, principal: CurrentPrincipal,
                  rt: Runtime) -> Response:
    return json_response(store.run_json(await _run(rt, principal.user_id, thread_id, run_id)))


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204, summary="Delete a finished run")
async def delete_run(thread_id: uuid.UUID, run_id: uuid.UUID, principal: CurrentPrincipal,
                     rt: Runtime) -> Response:
    run = await _run(rt, principal.user_id, thread_id, run_id)
    if run.status in store.ACTIVE:
        raise ApiError(409, "run_active", "cancel the run before deleting it", field="run_id")
    async with rt.runs.db.user_session(principal.user_id) as session:
        await store.delete_run(session, run.run_id)
    return Response(status_code=204)


@router.get("/threads/{thread_id}/runs/{run_id}/join", summary="Wait for a run and return its final values")
async def join_run(thread_id: uuid.UUID, run_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime,
                   cancel_on_disconnect: Annotated[bool, Query()] = False) -> StreamingResponse:
    run = await _run(rt, principal.user_id, thread_id, run_id)
    result = rt.runs.result(principal.user_id, run.thread_id, run.run_id, cancel_on_disconnect=cancel_on_disconnect)
    return StreamingResponse(result, media_type="application/json", headers=_where(run, "join"))


@router.get("/threads/{thread_id}/runs/{run_id}/stream", summary="Join a run's event stream (SSE)")
async def join_stream(thread_id: uuid.UUID, run_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime,
                      last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                      stream_mode: Annotated[list[str] | None, Query()] = None,
                      cancel_on_disconnect: Annotated[bool, Query()] = False) -> StreamingResponse:
    run = await _run(rt, principal.user_id, thread_id, run_id)
    modes = _query_modes(stream_mode)
    if last_event_id == "-1":
        last_event_id = None  # the JS SDK's "replay from the start" (what its reconnect-on-mount sends)
    if last_event_id:
        check_last_event_id(rt.bus, last_event_id)
    events = rt.runs.stream(principal.user_id, run.thread_id, run.run_id, last_id=last_event_id or None,
                            modes=modes, cancel_on_disconnect=cancel_on_disconnect)
    return sse_response(events, headers=_where(run, "stream"))


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", summary="Cancel a run (interrupt or rollback)",
             status_code=202, responses={
                 202: {"description": "Cancelling (without `wait`): `Location` names the run's join"},
                 200: {"description": "With `wait=true`: the run's final values, once it has stopped",
                       "content": {"application/json": {"schema": {"type": "object"}}}}})
async def cancel_run(thread_id: uuid.UUID, run_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime,
                     wait: Annotated[bool, Query()] = False,
                     action: Annotated[Literal["interrupt", "rollback"], Query()] = "interrupt") -> Response:
    run = await _run(rt, principal.user_id, thread_id, run_id)
    await rt.runs.cancel(principal.user_id, run.thread_id, run.run_id, action)
    if not wait:
        return Response(status_code=202, headers=_where(run, "join"))
    result = rt.runs.result(principal.user_id, run.thread_id, run.run_id)
    return StreamingResponse(result, media_type="application/json", headers=_where(run, "join"))


# --- stateless ---------------------------------------------------------------------------------------------


@router.post("/runs/stream", summary="Run on a temporary thread and stream its events (SSE)")
async def stream_stateless(body: RunCreate, principal: CurrentPrincipal, files: Files,
                           rt: Runtime) -> StreamingResponse:
    return await _stream_new(rt, principal.user_id, None, body, files)


@router.post("/runs/wait", summary="Run on a temporary thread and wait for its final values")
async def wait_stateless(body: RunCreate, principal: CurrentPrincipal, files: Files,
                         rt: Runtime) -> StreamingResponse:
    return await _wait_new(rt, principal.user_id, None, body, files)


@router.post("/runs", summary="Create a background run on a temporary thread")
async def create_stateless(body: RunCreate, principal: CurrentPrincipal, files: Files,
                           rt: Runtime) -> Response:
    run = await rt.runs.create(principal.user_id, None, body, prepare_input=files.store)
    return json_response(store.run_json(run), headers={"Content-Location": _where(run, "")["Content-Location"]})


@router.post("/runs/batch", summary="Create background runs, each on a temporary thread")
async def create_batch(body: Annotated[list[RunCreate], Body(min_length=1, max_length=100)],
                       principal: CurrentPrincipal, files: Files, rt: Runtime) -> Response:
    await rt.runs.check_runs(principal.user_id, body)  # all or none
    runs = [await rt.runs.create(principal.user_id, None, run, prepare_input=files.store) for run in body]
    return json_response([store.run_json(run) for run in runs])


@router.post("/runs/cancel", status_code=204, summary="Cancel runs: listed ones of a thread, or all pending/running")
async def cancel_many(body: RunsCancel, principal: CurrentPrincipal, rt: Runtime,
                      action: Annotated[Literal["interrupt", "rollback"], Query()] = "interrupt") -> Response:
    if body.run_ids is not None:
        ids = [parse_uuid(r, "run_ids") for r in body.run_ids]
        await rt.runs.cancel_many(principal.user_id, action, thread_id=parse_uuid(body.thread_id, "thread_id"),
                                  run_ids=ids)
    else:
        await rt.runs.cancel_many(principal.user_id, action, status=body.status)
    return Response(status_code=204)


# --- helpers -----------------------------------------------------------------------------------------------


def _query_modes(raw: list[str] | None) -> list[str] | None:
    """`stream_mode` as clients send it in a query string: repeated, or one JSON list."""
    raw = [item for item in raw or [] if item]  # the SDK sends `stream_mode=` for "no filter"
    if not raw:
        return None
    values: list[Any] = []
    try:
        for item in raw:
            values.extend(serde.loads(item) if item.startswith("[") else [item])
        return stream_modes(values)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", f"stream_mode: {exc}", field="stream_mode") from None

