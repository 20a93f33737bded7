"""One turn of an assistant on a thread, for the surfaces that hand the agent a message and want its answer:
MCP's `ask_docusign_agent` and A2A. The turn is an ordinary run (`RunService.create`, read to its end like
`/runs/wait`), so it is queued, executed by a run worker, checkpointed and visible in the chat page.

A turn can end three ways: an answer; a stop for a person's approval (the Agent Inbox interrupt of
`agent/approval.py`, whose action requests carry the plain-words descriptions); or an error.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from db.models import Run
from runtime.runs.process import AgentRuntime
from runtime.runs.schemas import RunCreate


def text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def answer_of(values: dict[str, Any]) -> str:
    """The assistant's last words in the turn's values ("" when it said nothing)."""
    for message in reversed(values.get("messages") or []):
        if isinstance(message, dict) and message.get("type") in ("ai", "AIMessage") and text_of(message).strip():
            return text_of(message).strip()
    return ""


def waiting_for(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The action requests of the interrupt the turn stopped at (empty when it did not stop)."""
    requests: list[dict[str, Any]] = []
    for item in values.get("__interrupt__") or []:
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, dict):
            requests.extend(r for r in value.get("action_requests") or [] if isinstance(r, dict))
    return requests


def waiting_sentence(pending: list[dict[str, Any]], *, base_url: str, thread_id: uuid.UUID | str) -> str:
    return ("Waiting for the person's decision on: " + " ".join(str(r.get("description")) for r in pending)
            + f" Nothing was done yet. They decide in the chat page ({base_url}/t/{thread_id}).")


def error_of(values: dict[str, Any]) -> str | None:
    if "__error__" not in values:
        return None
    error = values["__error__"] or {}
    return f"The agent could not finish: {error.get('message') or error.get('error') or 'unknown error'}"


async def start(runtime: AgentRuntime, user_id: uuid.UUID, thread_id: uuid.UUID, text: str, *,
                assistant_id: str = "agent", source: str, stream_mode: list[str] | None = None,
                metadata: dict[str, Any] | None = None) -> Run:
    """Queue the turn: the person's (or calling agent's) text as a human message on the thread, created if new.
    Raises the runs layer's typed refusals (unknown assistant, a thread id another user holds)."""
    body = RunCreate(assistant_id=assistant_id, input={"messages": [{"role": "user", "content": text}]},
                     if_not_exists="create", metadata={"source": source, **(metadata or {})},
                     stream_mode=stream_mode or ["values"])
    return await runtime.runs.create(user_id, thread_id, body)


async def values_of(runtime: AgentRuntime, user_id: uuid.UUID, run: Run) -> dict[str, Any]:
    """Wait for the run and return its final values, as `/runs/wait` does."""
    raw = b"".join([chunk async for chunk in runtime.runs.result(user_id, run.thread_id, run.run_id)])
    return orjson.loads(raw.strip() or b"{}")  # type: ignore[no-any-return]
