"""`/assistants`: each graph's default assistant (`agent`, the same for everyone, read-only) and the caller's
own assistants over those graphs, with their config and context, versioned."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from api.assistants.schemas import (
    AssistantCount,
    AssistantCreate,
    AssistantLatest,
    AssistantPatch,
    AssistantSearch,
    AssistantVersions,
)
from api.auth import CurrentPrincipal
from api.deps import Runtime
from api.errors import ApiError
from api.params import parse_uuid
from api.responses import json_response
from db.models import Assistant
from runtime.runs import assistants
from runtime.runs.graphs import GraphUnavailable
from runtime.runs.process import AgentRuntime
from runtime.runs.store import select_fields

router = APIRouter(tags=["assistants"])


def _compiled(rt: AgentRuntime, graph_id: str) -> Any:
    try:
        return rt.graph(graph_id)
    except GraphUnavailable as exc:
        raise ApiError(503, "graph_unavailable", str(exc)) from None


def _served(rt: AgentRuntime, graph_id: str) -> str:
    if rt.graphs.resolve(graph_id) != graph_id:
        raise ApiError(404, "not_found", f"graph {graph_id!r} is not served here; served: "
                       f"{', '.join(rt.graphs.graph_ids)}", field="graph_id")
    return graph_id


def _read_only(rt: AgentRuntime, assistant_id: str) -> None:
    if rt.graphs.resolve(assistant_id) is not None:
        raise ApiError(409, "read_only", f"{assistant_id!r} is a graph's default assistant and cannot be changed; "
                       "create an assistant over the graph instead", field="assistant_id")


async def _graph_of(rt: AgentRuntime, user_id: uuid.UUID, assistant_id: str) -> str:
    async with rt.runs.db.user_session(user_id) as session:
        return (await assistants.resolve(session, rt.graphs, assistant_id)).graph_id


def _content(body: AssistantCreate | AssistantPatch, current: Assistant | None = None) -> dict[str, Any]:
    """The fields a create or patch sets, with config.configurable and context kept in step."""
    changes: dict[str, Any] = {}
    if body.config is not None or body.context is not None:
        config = body.config.model_dump(exclude_none=True) if body.config is not None else (
            dict(current.config) if current else {})
        if body.context is not None and body.config is None:
            config.pop("configurable", None)
        changes["config"], changes["context"] = assistants.synced(config, body.context)
    for key, column in (("graph_id", "graph_id"), ("name", "name"), ("description", "description"),
                        ("metadata", "metadata_")):
        value = getattr(body, key)
        if value is not None:
            changes[column] = value
    return changes


@router.post("/assistants", summary="Create an assistant over a graph",
             responses={404: {"description": "`graph_id` names no graph served here"}})
async def create(body: AssistantCreate, principal: CurrentPrincipal, rt: Runtime) -> Response:
    graph_id = _served(rt, body.graph_id)
    assistant_id = parse_uuid(body.assistant_id, "assistant_id") if body.assistant_id else None
    if body.assistant_id and rt.graphs.resolve(body.assistant_id) is not None:
        raise ApiError(409, "conflict", f"assistant {body.assistant_id} already exists", field="assistant_id")
    content = _content(body)
    async with rt.runs.db.user_session(principal.user_id) as session:
        row = await assistants.create(
            session, principal.user_id, assistant_id=assistant_id, graph_id=graph_id,
            name=body.name or "Untitled", description=body.description,
            config=content.get("config", {}), context=content.get("context", {}), metadata=body.metadata or {})
        if row is None:
            existing = await assistants.get(session, assistant_id) if assistant_id else None
            if existing is not None and body.if_exists == "do_nothing":
                return json_response(assistants.assistant_json(existing))
            raise ApiError(409, "conflict", f"assistant {assistant_id} already exists", field="assistant_id")
        return json_response(assistants.assistant_json(row))


@router.post("/assistants/search", summary="List assistants: the graphs' defaults and your own")
async def search(principal: CurrentPrincipal, rt: Runtime,
                 body: Annotated[AssistantSearch | None, Body()] = None) -> Response:
    body = body or AssistantSearch()
    async with rt.runs.db.user_session(principal.user_id) as session:
        found = await assistants.search(session, rt.graphs, graph_id=body.graph_id, name=body.name,
                                        metadata=body.metadata, limit=body.limit, offset=body.offset,
                                        sort_by=body.sort_by, sort_order=body.sort_order)
    return json_response([select_fields(a, body.select) for a in found])


@router.post("/assistants/count", summary="Count assistants")
async def count(principal: CurrentPrincipal, rt: Runtime,
                body: Annotated[AssistantCount | None, Body()] = None) -> Response:
    body = body or AssistantCount()
    async with rt.runs.db.user_session(principal.user_id) as session:
        return json_response(await assistants.count(session, rt.graphs, graph_id=body.graph_id, name=body.name,
                                                    metadata=body.metadata))


@router.get("/assistants/{assistant_id}", summary="Get an assistant")
async def get(assistant_id: str, principal: CurrentPrincipal, rt: Runtime) -> Response:
    graph_id = rt.graphs.resolve(assistant_id)
    if graph_id is not None:
        return json_response(rt.graphs.assistant(graph_id))
    async with rt.runs.db.user_session(principal.user_id) as session:
        return json_response(assistants.assistant_json(await assistants.require(session, assistant_id)))


@router.patch("/assistants/{assistant_id}", summary="Change an assistant (a new version)")
async def patch(assistant_id: str, body: AssistantPatch, principal: CurrentPrincipal, rt: Runtime) -> Response:
    _read_only(rt, assistant_id)
    if body.graph_id is not None:
        _served(rt, body.graph_id)
    async with rt.runs.db.user_session(principal.user_id) as session:
        row = await assistants.require(session, assistant_id, lock=True)
        row = await assistants.patch(session, row, _content(body, row))
        return json_response(assistants.assistant_json(row))


@router.delete("/assistants/{assistant_id}", status_code=204, summary="Delete an assistant and its versions")
async def delete(assistant_id: str, principal: CurrentPrincipal, rt: Runtime,
                 delete_threads: Annotated[bool, Query()] = False) -> Response:
    _read_only(rt, assistant_id)
    async with rt.runs.db.user_session(principal.user_id) as session:
        row = await assistants.require(session, assistant_id, lock=True)
        await assistants.delete_assistant(session, row)
    if delete_threads:
        await rt.runs.delete_threads_where(principal.user_id, {"assistant_id": str(row.assistant_id)})
    return Response(status_code=204)


@router.post("/assistants/{assistant_id}/versions", summary="Every version of an assistant, newest first")
async def versions(assistant_id: str, principal: CurrentPrincipal, rt: Runtime,
                   body: Annotated[AssistantVersions | None, Body()] = None) -> Response:
    body = body or AssistantVersions()
    graph_id = rt.graphs.resolve(assistant_id)
    if graph_id is not None:
        default = rt.graphs.assistant(graph_id)
        return json_response([{k: v for k, v in default.items() if k != "updated_at"}][body.offset:])
    async with rt.runs.db.user_session(principal.user_id) as session:
        row = await assistants.require(session, assistant_id)
        found = await assistants.versions(session, row, metadata=body.metadata, limit=body.limit, offset=body.offset)
        return json_response([assistants.version_json(v) for v in found])


@router.post("/assistants/{assistant_id}/latest", summary="Make one of an assistant's versions the current one")
async def set_latest(assistant_id: str, body: AssistantLatest, principal: CurrentPrincipal, rt: Runtime) -> Response:
    _read_only(rt, assistant_id)
    async with rt.runs.db.user_session(principal.user_id) as session:
        row = await assistants.require(session, assistant_id, lock=True)
        return json_response(assistants.assistant_json(await assistants.set_latest(session, row, body.version)))


@router.get("/assistants/{assistant_id}/graph", summary="The assistant's graph (nodes and edges)")
async def graph(assistant_id: str, principal: CurrentPrincipal, rt: Runtime,
                xray: Annotated[int | bool, Query()] = False) -> Response:
    compiled = _compiled(rt, await _graph_of(rt, principal.user_id, assistant_id))
    drawable = await compiled.aget_graph(xray=xray)
    return json_response(drawable.to_json())


@router.get("/assistants/{assistant_id}/schemas", summary="The assistant's input, output, state and context schemas")
async def schemas(assistant_id: str, principal: CurrentPrincipal, rt: Runtime) -> Response:
    graph_id = await _graph_of(rt, principal.user_id, assistant_id)
    return json_response(rt.graphs.schemas(graph_id, _compiled(rt, graph_id)))


@router.get("/assistants/{assistant_id}/subgraphs", summary="The schemas of the assistant's subgraphs")
@router.get("/assistants/{assistant_id}/subgraphs/{namespace}", summary="The schemas of one subgraph")
async def subgraphs(assistant_id: str, principal: CurrentPrincipal, rt: Runtime, namespace: str | None = None,
                    recurse: Annotated[bool, Query()] = False) -> Response:
    graph_id = await _graph_of(rt, principal.user_id, assistant_id)
    found: dict[str, Any] = {}
    async for ns, subgraph in _compiled(rt, graph_id).aget_subgraphs(namespace=namespace, recurse=recurse):
        body = rt.graphs.schemas(graph_id, subgraph)
        body.pop("graph_id", None)
        found[ns] = body
    return json_response(found)
