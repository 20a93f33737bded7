"""`/v1/approvals`: calls held for the person's decision (an MCP client's irreversible calls), and deciding them.

This is the person's side (the chat page's "Waiting for you" list uses it): list what waits, read one, approve
or reject it. Approving runs the held call, exactly as it was held, through the tools' one `execute` path
(`tools.held.decide`) and answers with its result; rejecting runs nothing. Each call is decided once: a second
decision is a 409 and changes nothing. A chat's own approvals are not here: they are decided in the
conversation, where the run waits for them.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any, Literal

import orjson

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from agent.approval import describe
from agent.context import user_tool_context
from api.auth import CurrentPrincipal, Principal
from api.deps import AppSettings, Bus, Runtime
from runtime.runs.process import AgentRuntime
from api.errors import ApiError
from api.responses import json_response
from db import approvals as approvals_repo
from db.models import Approval
from tools import held
from runtime.bus import EventBus
from runtime.webhooks.worker import user_stream
from tools.context import ToolContext

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["v1"])


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    message: str | None = Field(default=None, max_length=500, description="Why (kept with a rejection)")


def _tool_context(request: Request, rt: AgentRuntime, principal: Principal) -> ToolContext:
    return user_tool_context(request.app.state.dependencies, principal.user_id, None,
                             store=rt.store_for(principal.user_id))


async def view(ctx: ToolContext, row: Approval, *, base_url: str) -> dict[str, Any]:
    """A held call as the person and clients see it: what it is in plain words, where it stands, what it did."""
    state = "pending" if row.decision is None else row.decision
    body: dict[str, Any] = {
        "id": str(row.id), "tool": row.tool_name, "args": row.args, "status": state,
        "description": describe(row.tool_name, row.args), "source": row.source,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "url": f"{base_url}/v1/approvals/{row.id}",
    }
    if row.decision == "approved":
        body["outcome"] = await held.outcome(ctx, row)
    return body


async def announce(bus: EventBus, user_id: uuid.UUID, row: Approval) -> None:
    """Tell the person's open pages (`/v1/events`, event `approval`) that a held call appeared or was decided."""
    data = {"id": str(row.id), "status": "pending" if row.decision is None else row.decision, "tool": row.tool_name}
    try:
        await bus.publish(user_stream(user_id), "approval", orjson.dumps(data))
    except Exception as exc:  # noqa: BLE001 - the record is committed; the page re-reads /v1/approvals
        log.warning("announcing approval %s failed: %s", row.id, exc)


async def _held(ctx: ToolContext, approval_id: uuid.UUID) -> Approval:
    async with ctx.database.user_session(ctx.user_id) as session:
        row = await approvals_repo.held(session, approval_id)
    if row is None:
        raise ApiError(404, "not_found", f"approval {approval_id} not found", field="approval_id")
    return row


@router.get("/approvals", summary="Calls held for your decision (pending by default; status=all for every one)")
async def list_approvals(request: Request, principal: CurrentPrincipal, rt: Runtime, settings: AppSettings,
                         status: Annotated[Literal["pending", "all"], Query()] = "pending",
                         limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Response:
    ctx = _tool_context(request, rt, principal)
    async with ctx.database.user_session(ctx.user_id) as session:
        rows = await approvals_repo.list_held(session, pending=status == "pending", limit=limit)
    return json_response({"approvals": [await view(ctx, row, base_url=settings.base_url) for row in rows]})


@router.get("/approvals/{approval_id}", summary="One held call: what it is, where it stands, what it did")
async def get_approval(approval_id: uuid.UUID, request: Request, principal: CurrentPrincipal, rt: Runtime,
                       settings: AppSettings) -> Response:
    ctx = _tool_context(request, rt, principal)
    return json_response(await view(ctx, await _held(ctx, approval_id), base_url=settings.base_url))


@router.post("/approvals/{approval_id}", summary="Approve (runs the held call) or reject (runs nothing) a held call")
async def decide_approval(approval_id: uuid.UUID, body: DecisionBody, request: Request,
                          principal: CurrentPrincipal, rt: Runtime, settings: AppSettings, bus: Bus) -> Response:
    ctx = _tool_context(request, rt, principal)
    row = await _held(ctx, approval_id)
    try:
        decided = await held.decide(ctx, row.id, approve=body.decision == "approve", via="api", message=body.message)
    except held.NotHeld:
        raise ApiError(404, "not_found", f"approval {approval_id} not found", field="approval_id") from None
    except held.AlreadyDecided as exc:
        raise ApiError(409, "already_decided", f"approval {approval_id} was already "
                       f"{exc.decision}; nothing was changed", field="approval_id") from None
    await announce(bus, principal.user_id, decided.approval)
    return json_response({"approval": await view(ctx, decided.approval, base_url=settings.base_url),
                          "result": decided.result})
