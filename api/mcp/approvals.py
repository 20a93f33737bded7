"""Irreversible tool calls over MCP: never on the calling model's word, always on the person's own decision.

Which calls need one is the spec's rule (`ToolSpec.needs_approval`, with the user's reminder setting), as in the
chat. Such a call is first checked exactly as the chat's gate checks it (`tools.base.check`: the schema and the
tool's precheck), so a call that can only fail is answered with its error and nobody is asked. Then it is held
(`tools.held.hold`: an approvals row with no decision, source `mcp`, and an `awaiting_approval` audit row) and:

- when the client supports elicitation, the person is asked there, with the chat approval card's own words
  (`agent.approval.describe`): accept runs the call through `execute`, decline (or dismiss) runs nothing. In the
  2025 protocol the question is a server-to-client request within the call; in the 2026-07-28 protocol the call
  answers `input_required` with the question, and the client's retry carries the answer and the held call's id
  (`requestState`, sealed with a key of this server and bound to the user, so only a question this server asked
  can be answered, never a call held for the chat page), which must name a call still waiting, with the same
  tool and arguments;
- otherwise the call stays held and the answer says so: the person decides in the chat page ("Waiting for you")
  or through `/v1/approvals/{id}`, and `get_approval` tells the client what became of it.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

import mcp_types as types
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field, ValidationError

from agent.approval import describe
from api.mcp.context import McpCaller
from api.mcp.tools import audit_refusal, failure, result, run
from api.v1.approvals import announce, view
from db import approvals as approvals_repo
from db.models import Approval
from docusign_agent.secrets import jwt_secret
from docusign_agent.settings import Settings
from tools import held
from tools.base import ToolSpec, check, validation_failure
from tools.common import preferences
from tools.results import ToolFailure

def mcp_state_key(settings: Settings) -> bytes:
    """The key that seals held-call ids sent as `requestState` (derived from the JWT secret: the same in every
    process, and reading it is blocking file work, so the app's lifespan calls this on a thread)."""
    return hmac.new(jwt_secret(settings).encode(), b"mcp-approval-state", hashlib.sha256).digest()


def seal(key: bytes, approval_id: uuid.UUID, user_id: uuid.UUID) -> str:
    """The held call's id as `requestState`, bound to its user: only a question this server asked can be answered."""
    mac = hmac.new(key, f"{approval_id}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"{approval_id}.{mac}"


def unseal(key: bytes, state: str, user_id: uuid.UUID) -> uuid.UUID | None:
    raw_id, _, mac = state.partition(".")
    try:
        approval_id = uuid.UUID(raw_id)
    except ValueError:
        return None
    return approval_id if hmac.compare_digest(seal(key, approval_id, user_id), state) else None


QUESTION = "approval"
# Nothing to fill in: accepting the question is the approval (decline or dismiss and nothing happens).
SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
GET_APPROVAL = "get_approval"


class GetApprovalArgs(BaseModel):
    approval_id: str = Field(min_length=1, description="The approval_id a held call answered with")


GET_APPROVAL_TOOL = types.Tool(
    name=GET_APPROVAL, title="Get approval",
    description="What became of a call held for the person's decision: still waiting, rejected, or approved and "
    "carried out (with its outcome, e.g. the envelope id).",
    input_schema=GetApprovalArgs.model_json_schema(),
    annotations=types.ToolAnnotations(title="Get approval", read_only_hint=True, destructive_hint=False,
                                      idempotent_hint=True, open_world_hint=False))


def question(description: str) -> str:
    return f"{description}\n\nApprove? Accept to go ahead; decline and nothing is done."


def can_elicit(ctx: Any) -> bool:
    capabilities = ctx.session.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def where_to_decide(caller: McpCaller, row: Approval) -> str:
    base = caller.settings.base_url
    return (f"The person decides in the chat page ({base}/, under \"Waiting for you\") or with POST "
            f"{base}/v1/approvals/{row.id} and {{\"decision\": \"approve\"}} or \"reject\"; "
            f"{GET_APPROVAL} with approval_id {row.id} tells what became of it.")


async def call_guarded(ctx: Any, caller: McpCaller, spec: ToolSpec, args: dict[str, Any],
                       params: types.CallToolRequestParams) -> types.CallToolResult | types.InputRequiredResult:
    prefs = await preferences(caller.tool_context("mcp-preferences"))
    if not spec.needs_approval(args, confirm_reminders=prefs.confirm_reminders):
        return result(await run(caller, spec, args))
    if params.request_state is not None:
        return await _answered(caller, spec, args, params)
    try:
        facts = await check(spec, args, caller.tool_context("mcp-check"))
    except ToolFailure as exc:
        await audit_refusal(caller, spec, args, status="failed")
        return result({**exc.payload(), "message": f"{exc.message} Nothing was done and nobody was asked to "
                       "approve it."})
    description = describe(spec.name, args, facts)
    row = await held.hold(caller.tool_context(f"mcp-{uuid.uuid4().hex}"), spec, args, source="mcp")
    await announce(caller.bus, caller.user_id, row)
    if not can_elicit(ctx):
        return _waiting(caller, row, description)
    ask = types.ElicitRequestFormParams(message=question(description), requested_schema=SCHEMA)
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return types.InputRequiredResult(input_requests={QUESTION: types.ElicitRequest(params=ask)},
                                         request_state=seal(caller.state_key, row.id, caller.user_id))
    try:
        answer = await ctx.session.elicit_form(message=ask.message, requested_schema=SCHEMA,
                                               related_request_id=ctx.request_id)
    except Exception:  # noqa: BLE001 - the client could not ask: the call stays held for the chat page or API
        return _waiting(caller, row, description)
    return await _decide(caller, row, answer.action == "accept", description)


async def _answered(caller: McpCaller, spec: ToolSpec, args: dict[str, Any],
                    params: types.CallToolRequestParams) -> types.CallToolResult:
    """The 2026 retry of a call whose approval was asked: the answer is for exactly the held call it names."""
    stale = failure("approval_unknown", "This answer is not for a call waiting for the person's decision (unknown, "
                    "someone else's, already decided, or other arguments); nothing was done. Call the tool again.")
    approval_id = unseal(caller.state_key, params.request_state or "", caller.user_id)
    if approval_id is None:
        return stale
    async with caller.database.user_session(caller.user_id) as session:
        row = await approvals_repo.held(session, approval_id)
    if (row is None or row.tool_name != spec.name or row.args_digest != approvals_repo.digest(args)
            or row.decision is not None or row.consumed_at is not None):
        return stale
    answer = (params.input_responses or {}).get(QUESTION)
    action = getattr(answer, "action", None)
    if action is None:
        return _waiting(caller, row, describe(row.tool_name, row.args))
    return await _decide(caller, row, action == "accept", describe(row.tool_name, row.args))


async def _decide(caller: McpCaller, row: Approval, approve: bool, description: str) -> types.CallToolResult:
    try:
        decided = await held.decide(caller.tool_context("mcp-decide"), row.id, approve=approve, via="elicitation")
    except (held.NotHeld, held.AlreadyDecided):
        return failure("approval_unknown", "The call was decided elsewhere meanwhile; nothing more was done.",
                       approval_id=str(row.id))
    await announce(caller.bus, caller.user_id, decided.approval)
    if decided.result is None:
        return failure("rejected", f"The person declined: {description} Nothing was done.", approval_id=str(row.id))
    return result({**decided.result, "approval_id": str(row.id)})


def _waiting(caller: McpCaller, row: Approval, description: str) -> types.CallToolResult:
    return result({"status": "awaiting_approval", "approval_id": str(row.id), "description": description,
                   "summary": f"Waiting for the person's decision: {description} Nothing has been done yet. "
                   + where_to_decide(caller, row)})


async def get_approval(caller: McpCaller, arguments: dict[str, Any]) -> types.CallToolResult:
    try:
        args = GetApprovalArgs.model_validate(arguments)
        approval_id = uuid.UUID(args.approval_id)
    except ValidationError as exc:
        return result(validation_failure(exc).payload())
    except ValueError:
        return failure("invalid_argument", "approval_id: not an approval id", field="approval_id")
    ctx = caller.tool_context("mcp-get-approval")
    async with caller.database.user_session(caller.user_id) as session:
        row = await approvals_repo.held(session, approval_id)
    if row is None:
        return failure("unknown_approval", f"There is no held call {approval_id}.", field="approval_id")
    body = await view(ctx, row, base_url=caller.settings.base_url)
    sentence = {"pending": "is waiting for the person's decision. " + where_to_decide(caller, row),
                "rejected": "was rejected; nothing was done.", "approved": "was approved and carried out."}
    summary = f"{body['description']} — {sentence[body['status']]}"
    if (body.get("outcome") or {}).get("summary"):
        summary += " " + str(body["outcome"]["summary"])
    return result({**body, "approval_id": body["id"], "summary": summary})
