"""Crons as langgraph-sdk's `client.crons` calls them: create (on a thread, or each run on a new thread), get,
patch, delete, search, count; and, beyond the SDK, the runs a cron made (`GET /runs/crons/{cron_id}/runs`).

The work (validation against the user's assistants and threads, the schedule, firing) is `runtime/runs`'s;
these routes only parse ids and shape responses.
"""

from __future__ import annotations

import uuid

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.auth import CurrentPrincipal
from api.deps import Runtime
from api.params import OffsetQuery, parse_uuid
from api.responses import json_response
from runtime.runs.cron_schemas import CronCount, CronCreate, CronPatch, CronSearch

router = APIRouter(tags=["crons"])


@router.post("/runs/crons", summary="Schedule runs, each on a new thread")
async def create_cron(body: CronCreate, principal: CurrentPrincipal, rt: Runtime) -> Response:
    return json_response(await rt.crons.create(principal.user_id, None, body))


@router.post("/threads/{thread_id}/runs/crons", summary="Schedule runs on a thread")
async def create_thread_cron(thread_id: uuid.UUID, body: CronCreate, principal: CurrentPrincipal,
                             rt: Runtime) -> Response:
    return json_response(await rt.crons.create(principal.user_id, thread_id, body))


@router.post("/runs/crons/search", summary="Search the caller's crons")
async def search_crons(body: CronSearch, principal: CurrentPrincipal, rt: Runtime) -> Response:
    thread_id = parse_uuid(body.thread_id, "thread_id") if body.thread_id else None
    return json_response(await rt.crons.search(principal.user_id, body, thread_id))


@router.post("/runs/crons/count", summary="Count the caller's crons")
async def count_crons(body: CronCount, principal: CurrentPrincipal, rt: Runtime) -> Response:
    thread_id = parse_uuid(body.thread_id, "thread_id") if body.thread_id else None
    return json_response(await rt.crons.count(principal.user_id, body, thread_id))


@router.get("/runs/crons/{cron_id}", summary="Get a cron")
async def get_cron(cron_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime) -> Response:
    return json_response(await rt.crons.get(principal.user_id, cron_id))


@router.patch("/runs/crons/{cron_id}", summary="Change a cron: schedule, time zone, end time, enabled, its run")
async def patch_cron(cron_id: uuid.UUID, body: CronPatch, principal: CurrentPrincipal,
                     rt: Runtime) -> Response:
    return json_response(await rt.crons.patch(principal.user_id, cron_id, body))


@router.delete("/runs/crons/{cron_id}", status_code=204, summary="Delete a cron (its runs stay)")
async def delete_cron(cron_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime) -> Response:
    await rt.crons.delete(principal.user_id, cron_id)
    return Response(status_code=204)


@router.get("/runs/crons/{cron_id}/runs", summary="The runs a cron made that still exist, newest first")
async def cron_runs(cron_id: uuid.UUID, principal: CurrentPrincipal, rt: Runtime,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
                    offset: OffsetQuery = 0) -> Response:
    return json_response(await rt.crons.runs(principal.user_id, cron_id,
                                             limit=limit, offset=offset))
