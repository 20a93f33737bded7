"""`/v1/tools`: the agent's tools as a client needs them to show a call in words and to build an approval's
edit form: name, description, approval policy and the JSON schema of the arguments."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.auth import CurrentPrincipal
from api.responses import json_response
from tools.registry import ALL

router = APIRouter(prefix="/v1", tags=["v1"])


@router.get("/tools", summary="The agent's tools: what each does, whether it needs approval, its argument schema")
async def list_tools(principal: CurrentPrincipal) -> Response:
    return json_response([{"name": spec.name, "description": spec.description, "approval": spec.approval,
                           "args_schema": spec.args_schema.model_json_schema()} for spec in ALL])
