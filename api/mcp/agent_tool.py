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
import orjson
from pydantic import BaseModel, Field, ValidationError

from api.mcp.context import McpCaller
from runtime.runs.errors import RunsError
from runtime.runs.schemas import RunCreate
from tools.base import validation_failure

NAME = "ask_docusign_agent"
ASSISTANT = "agent"


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


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def answer_of(values: dict[str, Any]) -> str:
    for message in reversed(values.get("messages") or []):
        if isinstance(message, dict) and message.get("type") in ("ai", "AIMessage") and _text(message).strip():
            return _text(message).strip()
    return ""


def waiting_for(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The action requests of the interrupt the turn stopped at (empty when it finished)."""
    requests: list[dict[str, Any]] = []
    for item in values.get("__interrupt__") or []:
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, dict):
            requests.extend(r for r in value.get("action_requests") or [] if isinstance(r, dict))
    return requests


async def run_turn(caller: McpCaller, thread_id: uuid.UUID, question: str) -> dict[str, Any]:
    """One turn on the thread; returns the run's final values, as `/runs/wait` does."""
    body = RunCreate(assistant_id=ASSISTANT, input={"messages": [{"role": "user", "content": question}]},
                     if_not_exists="create", metadata={"source": "mcp"})
    run = await caller.runtime.runs.create(caller.user_id, thread_id, body)
    raw = b"".join([chunk async for chunk in caller.runtime.runs.result(caller.user_id, run.thread_id, run.run_id)])
    return orjson.loads(raw.strip() or b"{}")  # type: ignore[no-any-return]


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
        values = await run_turn(caller, thread_id, args.question)
    except RunsError as exc:
        return {"error": exc.code, "message": exc.message, **({"field": exc.field} if exc.field else {})}
    if "__error__" in values:
        error = values["__error__"] or {}
        return {"error": "agent_failed", "thread_id": str(thread_id),
                "message": f"The agent could not finish: {error.get('message') or error.get('error')}"}
    pending = waiting_for(values)
    payload: dict[str, Any] = {"thread_id": str(thread_id), "answer": answer_of(values)}
    if pending:
        where = f"{caller.settings.base_url}/t/{thread_id}"
        payload["waiting_for_approval"] = [{"name": r.get("name"), "description": r.get("description")}
                                           for r in pending]
        payload["answer"] = (payload["answer"] + "\n\n" if payload["answer"] else "") + (
            "Waiting for the person's decision on: " + " ".join(str(r.get("description")) for r in pending)
            + f" Nothing was done yet. They decide in the chat page ({where}).")
    return payload
