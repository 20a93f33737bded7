"""`/assistants`: the graphs this server runs, each its own assistant (`agent`), with graph and schemas."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from api.assistants.schemas import AssistantSearch
from api.auth import CurrentPrincipal
from api.deps import Runtime
from api.errors import ApiError
from api.responses import json_response
from runtime.runs.graphs import GraphUnavailable
from runtime.runs.process import AgentRuntime

router = APIRouter(tags=["assistants"])



def _graph_id(rt: AgentRuntime, assistant_id: str) -> str:
    graph_id = rt.graphs.resolve(assistant_id)
    if graph_id is None:
        raise ApiError(404, "not_found", f"assistant {assistant_id!r} not found", field="assistant_id")
    return graph_id


def _compiled(rt: AgentRuntime, graph_id: str) -> Any:
    try:
        return rt.graph(graph_id)
    except GraphUnavailable as exc:
        raise ApiError(503, "graph_unavailable", str(exc)) from None


@router.post("/assistants/search", summary="List assistants")
async def search(principal: CurrentPrincipal, rt: Runtime,
                 body: Annotated[AssistantSearch | None, Body()] = None) -> Response:
    body = body or AssistantSearch()
    found = [rt.graphs.assistant(g) for g in rt.graphs.graph_ids]
    if body.graph_id:
        found = [a for a in found if a["graph_id"] == body.graph_id]
    if body.name:
        found = [a for a in found if body.name.lower() in a["name"].lower()]
    if body.metadata:
        found = [a for a in found if all(a["metadata"].get(k) == v for k, v in body.metadata.items())]
    page = found[body.offset: body.offset + body.limit]
    if body.select:
        page = [{k: v for k, v in a.items() if k in body.select} for a in page]
    return json_response(page)


@router.post("/assistants/count", summary="Count assistants")
async def count(principal: CurrentPrincipal, rt: Runtime,
                body: Annotated[AssistantSearch | None, Body()] = None) -> Response:
    body = body or AssistantSearch()
    return json_response(len([g for g in rt.graphs.graph_ids if not body.graph_id or g == body.graph_id]))


@router.get("/assistants/{assistant_id}", summary="Get an assistant")
async def get(assistant_id: str, principal: CurrentPrincipal, rt: Runtime) -> Response:
    return json_response(rt.graphs.assistant(_graph_id(rt, assistant_id)))


@router.get("/assistants/{assistant_id}/graph", summary="The assistant's graph (nodes and edges)")
async def graph(assistant_id: str, principal: CurrentPrincipal, rt: Runtime,
                xray: Annotated[int | bool, Query()] = False) -> Response:
    compiled = _compiled(rt, _graph_id(rt, assistant_id))
    drawable = await compiled.aget_graph(xray=xray)
    return json_response(drawable.to_json())


@router.get("/assistants/{assistant_id}/schemas", summary="The assistant's input, output, state and context schemas")
async def schemas(assistant_id: str, principal: CurrentPrincipal, rt: Runtime) -> Response:
    graph_id = _graph_id(rt, assistant_id)
    return json_response(rt.graphs.schemas(graph_id, _compiled(rt, graph_id)))
