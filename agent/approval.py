"""The approval gate: irreversible tool calls wait for a person's decision.

The run stops with `interrupt()` in the Agent Inbox shape (docs/API.md, "Approvals"); the resume value carries
one decision per action request: approve (run as proposed), edit (run the edited arguments once they validate),
reject (tell the model, change nothing). Which calls need approval depends only on the tool and its arguments (and the
user's reminder setting), never on any text a model, document or tool produced.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError

from tools.base import ToolSpec, validate
from tools.registry import BY_NAME
from tools.results import ToolFailure, dumps


class EditedAction(BaseModel):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class Decision(BaseModel):
    type: str = Field(pattern="^(approve|edit|reject)$")
    message: str | None = None
    edited_action: EditedAction | None = None


class Decisions(BaseModel):
    decisions: list[Decision]


class InvalidResume(ValueError):
    pass


def pending_approvals(message: AIMessage, *, confirm_reminders: bool) -> list[dict[str, Any]]:
    calls = []
    for call in message.tool_calls:
        spec = BY_NAME.get(call["name"])
        if spec is not None and spec.needs_approval(call["args"], confirm_reminders=confirm_reminders):
            calls.append(call)
    return calls


def request_payload(calls: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "action_requests": [
            {"name": c["name"], "args": c["args"], "description": describe(BY_NAME[c["name"]], c["args"])} for c in calls
        ],
        "review_configs": [
            {"action_name": c["name"], "allowed_decisions": ["approve", "edit", "reject"]} for c in calls
        ],
    }


def describe(spec: ToolSpec, args: dict[str, Any]) -> str:
    what = {
        "send_document": "Send document {document} for signature",
        "send_template": "Send template {template} for signature",
        "send_draft": "Send draft envelope {envelope_id}",
        "void_envelope": "Void envelope {envelope_id} (reason: {reason})",
        "correct_recipient": "Correct recipient {recipient} on envelope {envelope_id}",
        "remind_recipients": "Remind the open recipients of envelope {envelope_id}",
        "bulk_send": "Bulk send template {template}",
    }.get(spec.name)
    try:
        head = what.format(**args) if what else spec.name
    except (KeyError, IndexError):
        head = spec.name
    return f"{head}. Review the arguments, then approve, edit or reject."


def parse_decisions(value: Any, expected: int) -> list[Decision]:
    try:
        decisions = Decisions.model_validate(value).decisions
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidResume(f"command.resume.{field or 'decisions'}: {first.get('msg')}") from None
    if len(decisions) != expected:
        raise InvalidResume(f"command.resume.decisions: expected {expected} decision(s), got {len(decisions)}")
    return decisions


def ask(calls: list[dict[str, Any]]) -> list[Decision]:
    """Interrupt until the resume value is a valid set of decisions.

    A malformed resume must change nothing and leave the thread usable, so instead of failing the run (which
    would also record the bad value as this interrupt's answer) the gate asks again, saying what was wrong.
    """
    payload = request_payload(calls)
    while True:
        try:
            return parse_decisions(interrupt(payload), len(calls))
        except InvalidResume as exc:
            payload = {**request_payload(calls), "error": str(exc)}


def apply_decisions(
    message: AIMessage, calls: list[dict[str, Any]], decisions: list[Decision]
) -> tuple[AIMessage | None, list[ToolMessage], list[str], list[tuple[dict[str, Any], Decision]]]:
    """-> (the AI message with edited args, or None if unchanged; tool messages for rejected or invalid edits;
    approved call ids; the rejected calls for the audit log)."""
    edited_args: dict[str, dict[str, Any]] = {}
    replies: list[ToolMessage] = []
    approved: list[str] = []
    rejected: list[tuple[dict[str, Any], Decision]] = []
    for call, decision in zip(calls, decisions, strict=True):
        spec = BY_NAME[call["name"]]
        if decision.type == "approve":
            approved.append(call["id"])
        elif decision.type == "reject":
            rejected.append((call, decision))
            reason = f": {decision.message}" if decision.message else "."
            replies.append(ToolMessage(dumps({"error": "rejected", "message": f"The user rejected {call['name']}{reason} "
                                              "Nothing was done."}), tool_call_id=call["id"], name=call["name"]))
        else:
            action = decision.edited_action
            failure: ToolFailure | None = None
            if action is None:
                failure = ToolFailure("invalid_edit", "The edit decision carried no edited_action; nothing was done.")
            elif action.name != call["name"]:
                failure = ToolFailure("invalid_edit", f"The edit changed the action from {call['name']} to "
                                      f"{action.name}, which is not allowed; nothing was done.")
            else:
                try:
                    validate(spec, action.args)
                except ToolFailure as exc:
                    failure = ToolFailure("invalid_edit", f"The edited arguments are not valid ({exc.message}); "
                                          "nothing was done.", field=exc.field)
            if failure is not None:
                replies.append(ToolMessage(dumps(failure.payload()), tool_call_id=call["id"], name=call["name"]))
                rejected.append((call, decision))
            else:
                assert action is not None
                edited_args[call["id"]] = action.args
                approved.append(call["id"])
    updated = None
    if edited_args:
        new_calls = [{**c, "args": edited_args.get(c["id"], c["args"])} for c in message.tool_calls]
        updated = message.model_copy(update={"tool_calls": new_calls})
    return updated, replies, approved, rejected
