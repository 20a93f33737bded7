"""One scenario's conversation, held through the public API with langgraph-sdk exactly as a program would: a
thread, a run per turn, and the person's decisions sent back as resume commands when the agent asks.

The person follows the scenario's script. When the agent asks for an approval the script does not have, the
person rejects it (as someone who never asked for that action would) and the conversation records it, so the
approval-flow check can fail it.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from evals.schema import Approval, Scenario

UNEXPECTED = "I did not ask for that. Do not do it."


class InfrastructureError(Exception):
    """The server did not answer as a server must (transport error, 5xx): the attempt is retried."""


@dataclass
class Decided:
    tool_call_id: str | None
    name: str
    args: dict[str, Any]
    decision: str  # approve | edit | reject
    scripted: bool


@dataclass
class Transcript:
    thread_id: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    decided: list[Decided] = field(default_factory=list)
    unexpected_approvals: int = 0
    unused_approvals: int = 0
    run_errors: list[str] = field(default_factory=list)
    latency_ms: float = 0.0

    def tool_calls(self) -> list[dict[str, Any]]:
        """Every tool call the model made, in order, with the arguments that ran (edits applied)."""
        return [{"id": c.get("id"), "name": c["name"], "args": c.get("args") or {}}
                for m in self.messages if m.get("type") == "ai" for c in m.get("tool_calls") or []]

    def tokens(self) -> int:
        return sum(int((m.get("usage_metadata") or {}).get("total_tokens") or 0)
                   for m in self.messages if m.get("type") == "ai")

    def last_reply(self) -> str:
        for m in reversed(self.messages):
            if m.get("type") == "ai" and text_of(m).strip():
                return text_of(m)
        return ""

    def readable(self) -> list[dict[str, Any]]:
        """The conversation for reports: who said what, which tools ran with what, and what they answered."""
        lines: list[dict[str, Any]] = []
        for m in self.messages:
            kind = m.get("type")
            if kind == "human":
                lines.append({"role": "user", "text": text_of(m)})
            elif kind == "ai":
                if text_of(m).strip():
                    lines.append({"role": "agent", "text": text_of(m)})
                for call in m.get("tool_calls") or []:
                    lines.append({"role": "tool_call", "tool": call["name"], "args": call.get("args") or {}})
            elif kind == "tool":
                lines.append({"role": "tool_result", "tool": m.get("name"), "text": text_of(m)[:1500]})
        for d in self.decided:
            lines.append({"role": "decision", "tool": d.name, "decision": d.decision, "scripted": d.scripted})
        return lines


def text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return str(content or "")


def _match_call(request: dict[str, Any], calls: list[dict[str, Any]], used: set[str]) -> dict[str, Any] | None:
    for call in calls:
        if call.get("id") not in used and call["name"] == request["name"] and (call.get("args") or {}) == request["args"]:
            return call
    return next((c for c in calls if c.get("id") not in used and c["name"] == request["name"]), None)


def _decision(request: dict[str, Any], approval: Approval | None) -> dict[str, Any]:
    if approval is None:
        return {"type": "reject", "message": UNEXPECTED}
    if approval.decision == "edit":
        return {"type": "edit", "edited_action": {"name": request["name"], "args": {**request["args"], **approval.args}}}
    if approval.decision == "reject":
        return {"type": "reject", "message": approval.message or "No, don't."}
    return {"type": "approve"}


async def _wait(client: Any, thread_id: str, timeout: float, **kwargs: Any) -> dict[str, Any]:
    try:
        values = await asyncio.wait_for(client.runs.wait(thread_id, "agent", **kwargs), timeout)
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code >= 500:
            raise InfrastructureError(f"the server answered {exc.response.status_code}: {exc.response.text[:200]}") from exc
        raise
    except (httpx.TransportError, ConnectionError) as exc:
        raise InfrastructureError(f"the server did not answer ({type(exc).__name__}: {exc})") from exc
    return values if isinstance(values, dict) else {}


async def converse(client: Any, scenario: Scenario, content_for: Any, *, turn_timeout: float) -> Transcript:
    """Play the scenario's turns on a new thread. `content_for(turn)` builds a human message's content (text and
    any attached files). A run that exceeds `turn_timeout` or ends in error is recorded, not retried."""
    transcript = Transcript()
    transcript.thread_id = (await client.threads.create())["thread_id"]
    started = time.monotonic()
    values: dict[str, Any] = {}
    try:
        for turn in scenario.turns:
            script = list(turn.approvals)
            values = await _wait(client, transcript.thread_id, turn_timeout,
                                 input={"messages": [{"type": "human", "content": content_for(turn)}]})
            while values.get("__interrupt__") and not values.get("__error__"):
                payload = values["__interrupt__"][0].get("value") or {}
                ai = next((m for m in reversed(values.get("messages") or []) if m.get("type") == "ai"), {})
                calls, used, decisions = list(ai.get("tool_calls") or []), set(), []
                for request in payload.get("action_requests") or []:
                    approval = script.pop(0) if script else None
                    call = _match_call(request, calls, used)
                    if call is not None:
                        used.add(call.get("id"))
                    decision = _decision(request, approval)
                    decisions.append(decision)
                    transcript.unexpected_approvals += approval is None
                    transcript.decided.append(Decided(call.get("id") if call else None, request["name"], request["args"],
                                                      decision["type"], approval is not None))
                values = await _wait(client, transcript.thread_id, turn_timeout,
                                     command={"resume": {"decisions": decisions}})
            if values.get("__error__"):
                transcript.run_errors.append(json.dumps(values["__error__"])[:500])
                break
            transcript.unused_approvals += len(script)
    except TimeoutError:
        transcript.run_errors.append(f"a turn took longer than {turn_timeout:.0f} s")
    transcript.latency_ms = (time.monotonic() - started) * 1000
    state = await client.threads.get_state(transcript.thread_id)
    transcript.messages = list(((state or {}).get("values") or {}).get("messages") or values.get("messages") or [])
    return transcript
