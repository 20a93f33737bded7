"""The approval gate: irreversible tool calls wait for a person's decision.

The run stops with `interrupt()` in the Agent Inbox shape (docs/API.md, "Approvals"); the resume value carries
one decision per action request: approve (run as proposed), edit (run the edited arguments once they validate),
reject (tell the model, change nothing). Which calls need approval depends only on the tool and its arguments (and the
user's reminder setting), never on any text a model, document or tool produced.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langgraph.errors import GraphInterrupt
from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError

from db import approvals
from tools.base import ToolSpec, check, validate
from tools.context import ToolContext
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


async def checked(calls: list[dict[str, Any]], ctx: ToolContext) -> tuple[list[tuple[dict[str, Any], dict[str, str]]],
                                                                           list[ToolMessage]]:
    """Split calls into those a person may decide on (with the facts for their description) and those that can
    only fail, which are answered at once with the error so the model can fix them and nobody is asked."""
    askable: list[tuple[dict[str, Any], dict[str, str]]] = []
    failed: list[ToolMessage] = []
    for call in calls:
        try:
            facts = await check(BY_NAME[call["name"]], call["args"], ctx)
        except ToolFailure as exc:
            payload = {**exc.payload(), "message": f"{exc.message} Nothing was done and nobody was asked to approve it."}
            failed.append(ToolMessage(dumps(payload), tool_call_id=call["id"], name=call["name"], status="error"))
            continue
        askable.append((call, facts))
    return askable, failed


def request_payload(calls: list[tuple[dict[str, Any], dict[str, str]]]) -> dict[str, Any]:
    return {
        "action_requests": [
            {"name": c["name"], "args": c["args"], "description": describe(c["name"], c["args"], facts)}
            for c, facts in calls
        ],
        "review_configs": [
            {"action_name": c["name"], "allowed_decisions": ["approve", "edit", "reject"]} for c, _ in calls
        ],
    }


def _person(p: Any) -> str:
    if not isinstance(p, dict):
        return str(p)
    name, email = str(p.get("name") or "").strip(), str(p.get("email") or "").strip()
    return f"{name} <{email}>" if name and email else name or email


def _people(items: Any) -> str:
    names = [_person(p) for p in items or []]
    if len(names) <= 1:
        return names[0] if names else "nobody"
    return ", ".join(names[:-1]) + " and " + names[-1]


def describe(name: str, args: dict[str, Any], facts: dict[str, str] | None = None) -> str:
    """The action in plain words, as a person reviews it: what, to whom, copied to whom, with which subject.
    `*...*` marks the document or template (Markdown emphasis)."""
    facts = facts or {}
    cc = f", CC {_people(args['cc'])}" if args.get("cc") else ""
    subject = facts.get("subject") or args.get("email_subject")
    about = f", subject “{subject}”" if subject else ""
    if name == "send_template":
        head = f"Send *{facts.get('template') or args.get('template')}* to {_people(args.get('recipients'))}{cc}{about}"
    elif name == "send_document":
        head = (f"Send *{facts.get('document') or args.get('document')}* for signature to "
                f"{_people(args.get('signers'))}{cc}{about}")
    elif name == "send_draft":
        head = f"Send the draft envelope {args.get('envelope_id')} to its recipients"
    elif name == "void_envelope":
        head = f"Void envelope {args.get('envelope_id')}, telling the recipients “{args.get('reason')}”"
    elif name == "correct_recipient":
        changes = [f"{k} to {args[k]}" for k in ("name", "email") if args.get(k)]
        head = (f"Correct recipient {args.get('recipient')} on envelope {args.get('envelope_id')}: change "
                + " and ".join(changes))
    elif name == "remind_recipients":
        head = f"Email a reminder to the recipients of envelope {args.get('envelope_id')} who have not signed yet"
    elif name == "bulk_send":
        count = facts.get("count") or str(len(args.get("rows") or []))
        people = f" ({facts['people']})" if facts.get("people") else ""
        batch = f", batch “{args['batch_name']}”" if args.get("batch_name") else ""
        head = f"Bulk send *{facts.get('template') or args.get('template')}* to {count} recipients{people}{batch}"
    elif name == "schedule_task":
        zone = args.get("timezone") or "UTC"
        upcoming = f"; first runs: {facts['next']}" if facts.get("next") else ""
        head = (f"From now on, on its own, “{args.get('instruction')}” on the schedule {args.get('schedule')} "
                f"({zone}){upcoming}")
    else:
        head = name.replace("_", " ").capitalize()
    return head + "."


def coerce_json_text(spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
    """Edited arguments as some clients send them (agent-chat-ui edits every value as text): a list or object
    argument that arrives as JSON text is parsed before validation, so the person's edit is what gets validated."""
    structured = _structured_fields(spec.args_schema)
    out = dict(args)
    for key, value in args.items():
        if key in structured and isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                parsed = json.loads(value)
            except ValueError:
                continue  # validation names the field and says what is wrong
            if isinstance(parsed, list | dict):
                out[key] = parsed
    return out


@lru_cache(maxsize=64)
def _structured_fields(schema: type[BaseModel]) -> frozenset[str]:
    def structured(prop: dict[str, Any]) -> bool:
        if prop.get("type") in ("array", "object") or "$ref" in prop:
            return True
        return any(structured(option) for option in prop.get("anyOf", []) + prop.get("allOf", []))

    properties = schema.model_json_schema().get("properties", {})
    return frozenset(name for name, prop in properties.items() if structured(prop))


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


async def ask(calls: list[tuple[dict[str, Any], dict[str, str]]], ctx: ToolContext) -> list[Decision]:
    """Interrupt until the resume value is a valid set of decisions on the calls the person was shown.

    A malformed resume must change nothing and leave the thread usable, so instead of failing the run (which
    would also record the bad value as this interrupt's answer) the gate asks again, saying what was wrong.
    Each time it asks, it records what it showed (`db.approvals.asked`); a resume that arrives after the calls
    changed (a command that also rewrote the messages) is not taken as a decision on the new arguments: the
    gate asks again, showing them.
    """
    payload = request_payload(calls)
    while True:
        try:
            value = interrupt(payload)
        except GraphInterrupt:
            await _record_asked(calls, ctx)
            raise
        try:
            decisions = parse_decisions(value, len(calls))
        except InvalidResume as exc:
            payload = {**request_payload(calls), "error": str(exc)}
            continue
        changed = await _changed_since_asked(calls, ctx)
        if changed:
            payload = {**request_payload(calls), "error": (
                f"The arguments of {', '.join(changed)} are not the ones you were shown; nothing was done. "
                "Decide again on the calls as they are now.")}
            continue
        return decisions


async def _record_asked(calls: list[tuple[dict[str, Any], dict[str, str]]], ctx: ToolContext) -> None:
    async with ctx.database.user_session(ctx.user_id) as session:
        for call, _ in calls:
            await approvals.asked(session, user_id=ctx.user_id, thread_id=ctx.thread_id, tool_call_id=call["id"],
                                  tool_name=call["name"], args=call["args"], source="chat")


async def _changed_since_asked(calls: list[tuple[dict[str, Any], dict[str, str]]], ctx: ToolContext) -> list[str]:
    """Names of the calls whose arguments differ from what the person was shown, or who was never shown them.
    A call already decided (the gate running again after recording) is judged when the tool node consumes it."""
    async with ctx.database.user_session(ctx.user_id) as session:
        shown = await approvals.pending_digests(session, user_id=ctx.user_id, thread_id=ctx.thread_id,
                                                tool_call_ids=[c["id"] for c, _ in calls])
    return [c["name"] for c, _ in calls
            if c["id"] not in shown or (shown[c["id"]] is not None and shown[c["id"]] != approvals.digest(c["args"]))]


async def record_decisions(session: Any, ctx: ToolContext, calls: list[dict[str, Any]], approved: list[str],
                           decided: AIMessage) -> None:
    """Write each decision with the arguments it covers: those of `decided` (the message after edits)."""
    final = {c["id"]: c["args"] for c in decided.tool_calls}
    for call in calls:
        await approvals.decide(session, user_id=ctx.user_id, thread_id=ctx.thread_id, tool_call_id=call["id"],
                               decision="approved" if call["id"] in approved else "rejected",
                               args=final.get(call["id"], call["args"]))


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
                action.args = coerce_json_text(spec, action.args)
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
