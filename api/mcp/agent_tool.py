"""The agent itself as one MCP tool: "ask the DocuSign agent" runs a turn on a thread and returns its answer.

The turn goes through the run machinery like any other client's (`RunService.create`, then the run's result as
`/runs/wait` returns it), so it is queued, executed by a run worker, checkpointed and visible in the chat page
under the same thread. When the agent stops to ask for approval, the answer says what it is waiting for and
where the person decides; nothing irreversible happens on this tool's word.
"""

from __future__ import annotations

import uuid
from typing import Any

import mcp_types as types
from pydantic import BaseModel, Field, ValidationError

from api import turns
from api.mcp.context import McpCaller
from runtime.runs.errors import RunsError
from tools.base import validation_failure

NAME = "ask_docusign_agent"


class AskAgentArgs(BaseModel):
    question: str = Field(min_length=1, max_length=20_000, description="What to ask or tell the DocuSign agent.")
    thread_id: str | None = Field(default=None, description="Continue this conversation (from an earlier answer); "
                                  "omit to start a new one.")


TOOL = types.Tool(
    name=NAME, title="Ask the DocuSign agent",
    description="Ask the DocuSign agent in plain words (find, send, track, remind, void, analyse documents); it "
    "plans and uses its own tools, and asks the person before anything irreversible. Returns its answer and the "
    "thread_id to continue the conversation.",
    input_schema=AskAgentArgs.model_json_schema(),
    annotations=types.ToolAnnotations(title="Ask the DocuSign agent", read_only_hint=False, destructive_hint=False,
                                      idempotent_hint=False, open_world_hint=True))


async def ask(caller: McpCaller, arguments: dict[str, Any]) -> dict[str, Any]:
    try:
        args = AskAgentArgs.model_validate(arguments)
    except ValidationError as exc:
        return validation_failure(exc).payload()
    try:
        thread_id = uuid.UUID(args.thread_id) if args.thread_id else uuid.uuid4()
    except ValueError:
        return {"error": "invalid_argument", "message": "thread_id: not a thread id (a UUID from an earlier answer)",
                "field": "thread_id"}
    try:
        run = await turns.start(caller.runtime, caller.user_id, thread_id, args.question, source="mcp")
    except RunsError as exc:
        return {"error": exc.code, "message": exc.message, **({"field": exc.field} if exc.field else {})}
    values = await turns.values_of(caller.runtime, caller.user_id, run)
    if (error := turns.error_of(values)) is not None:
        return {"error": "agent_failed", "thread_id": str(thread_id), "message": error}
    pending = turns.waiting_for(values)
    payload: dict[str, Any] = {"thread_id": str(thread_id), "answer": turns.answer_of(values)}
    if pending:
        payload["waiting_for_approval"] = [{"name": r.get("name"), "description": r.get("description")}
                                           for r in pending]
        waiting = turns.waiting_sentence(pending, base_url=caller.settings.base_url, thread_id=thread_id)
        payload["answer"] = (payload["answer"] + "\n\n" if payload["answer"] else "") + waiting
    return payload
