"""Decide the next assistant message from the conversation and the request's tools.

The planner is stateless: every request carries the whole conversation, so it re-reads the last user message,
splits it into clauses (steps), and replays them over the tool exchanges that already happened in this turn.
The first step that still needs a tool gets its calls; when every step is finished the answer is composed from
the results. A reply to one of its own questions ("Why should it be voided?") is merged into the request that
asked it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from . import analysis, answers, extract, intents, phrasing, schema, sending, slots, steps
from .conversation import Conversation

MAX_EXCHANGES = 12
_CANCEL = re.compile(r"^\s*(?:no\b|nope|never ?mind|forget (?:it|that)|don'?t|do not|stop|cancel(?: that| it)?\s*[.!]*$)",
                     re.I)
_COMMAND = re.compile(r"^\s*(?:please\s+)?(?:send|list|show|remind|download|void|get|what|who|create|bulk|summari[sz]e"
                      r"|check|give|correct|change)\b", re.I)
_ANSWER_LEAD = re.compile(
    r"^\s*(?:(?:it'?s|it is|that'?s|this is|they are|they'?re|he is|she is|he'?s|she'?s|the signers? (?:is|are)|"
    r"send it|please send it|have it signed)\s+)?(?:(?:going|meant|intended)\s+)?(?:(?:to|for|by)\b)?\s*", re.I)


@dataclass
class Plan:
    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class _Outcome:
    plan: Plan
    pending: tuple[list[str], str] | None = None  # clauses from the one that asked, and the missing slot


def plan(messages: list[dict[str, Any]], tools: list[dict[str, Any]], today: dt.date | None = None) -> Plan:
    """The next assistant message: tool calls, or text."""
    analysed = _analysis(messages)
    if analysed is not None:
        return Plan(content=analysed)
    definitions = {t["function"]["name"]: t["function"].get("parameters") or {"type": "object", "properties": {}}
                   for t in tools if t.get("type", "function") == "function" and "function" in t}
    conversation = Conversation(messages, definitions, today)
    if not conversation.turns or not conversation.turns[-1].user_text.strip():
        return Plan(content="Hello! " + answers.capabilities(definitions, conversation.prefs))
    return _execute(conversation, len(conversation.turns) - 1, 0).plan


def _analysis(messages: list[dict[str, Any]]) -> str | None:
    """The product's document-analysis prompt (see tools/analysis.py) gets JSON, not a chat reply."""
    system = next((m for m in messages if m.get("role") in ("system", "developer")), None)
    user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    if system is None or user is None:
        return None
    return analysis.respond(_text(system.get("content")), _text(user.get("content")))


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def _execute(conversation: Conversation, index: int, depth: int) -> _Outcome:
    turn = conversation.turns[index]
    prefs = conversation.prefs
    follow = _follow_up(conversation, index, depth)
    if follow == "cancel":
        return _Outcome(Plan(content="OK, I won't do that. Nothing was done."))
    clauses = follow or phrasing.split_clauses(turn.user_text)
    exchanges = turn.exchanges
    position, lines, understood = 0, [], 0
    for number, clause in enumerate(clauses):
        context = conversation.context(index, position)
        intent = intents.build(clause, context)
        if intent is None:
            lines.append(f"I didn't understand \u201c{_short(clause)}\u201d, so I skipped that part.")
            continue
        understood += 1
        outcome = steps.run(intent, context, exchanges[position:], prefs)
        if isinstance(outcome, steps.Calls):
            if len(exchanges) >= MAX_EXCHANGES:
                lines.append("I've made many tool calls for this request already, so I'll stop here.")
                break
            calls, problem = _fit(outcome.calls, conversation.tools)
            if problem:
                lines.append(problem)
                break
            return _Outcome(Plan(tool_calls=calls))
        position += outcome.consumed
        lines += outcome.lines
        if not outcome.ok:
            pending = (clauses[number:], outcome.slot or intent.slot or "envelope") if outcome.asked else None
            return _Outcome(Plan(content=compose(lines, conversation, asked=outcome.asked)), pending)
    if not understood:
        return _Outcome(Plan(content=not_understood(turn.user_text, conversation)))
    return _Outcome(Plan(content=compose(lines, conversation)))


def _follow_up(conversation: Conversation, index: int, depth: int) -> list[str] | str | None:
    """If the previous reply was our question and this message answers it, the request with the answer in."""
    if index == 0 or depth >= 3:
        return None
    previous = conversation.turns[index - 1]
    if not previous.reply:
        return None
    outcome = _execute(conversation, index - 1, depth + 1)
    if outcome.pending is None or _norm(outcome.plan.content) != _norm(previous.reply):
        return None
    text = conversation.turns[index].user_text.strip()
    clauses, slot = outcome.pending
    if _CANCEL.match(text):
        return "cancel"
    if not _answers(text, slot, clauses[0]):
        return None
    return [_merge(clauses[0], text, slot)] + clauses[1:]


def _answers(text: str, slot: str, asked: str) -> bool:
    kind = phrasing.classify(text)
    if phrasing.classify(asked) == "correct" and slot in {"email", "name", "change"} and not _COMMAND.match(text):
        return bool(extract.emails(text)) or slot != "email" and len(text.split()) <= 8
    if slot == "reason":
        return not _COMMAND.match(text)
    if slot == "envelope" and extract.guids(text) and len(text.split()) <= 8:
        return True
    if slot == "email" and extract.emails(text) and len(text.split()) <= 12 and (
            kind not in {"send", "bulk_send"} or not (extract.filenames(text) or slots.named_thing(text))):
        return True
    return kind is None


def _merge(clause: str, text: str, slot: str) -> str:
    if slot == "reason":
        reason = re.sub(r"^\s*(?:because|the reason is|reason:?|it'?s because)\s+", "", text, flags=re.I)
        return f"{clause} because {reason}"
    if slot == "envelope":
        ids = extract.guids(text)
        reason = re.search(r"\s*(?:,\s*)?\bbecause\s+(.+)$", clause, re.I | re.S)
        insert = f" envelope {ids[0]}" if ids else f" {text}"
        return clause[: reason.start()] + insert + clause[reason.start():] if reason else clause + insert
    if phrasing.classify(clause) == "correct" and slot in {"email", "name", "change"}:
        found = extract.emails(text)
        said = re.sub(r"^\s*(?:it'?s|it is|should be|the (?:new |right |correct )?(?:one|name|email) is|make it|"
                      r"change it to|use|to)\s+", "", text.strip(), flags=re.I).rstrip(".!")
        return f"{clause}, use {found[0]}" if found else f"{clause}: the name should be {said}"
    if slot == "email" and extract.emails(text):
        return f"{clause} to {_ANSWER_LEAD.sub('', text)}"
    if slot in {"document", "template"}:
        return sending.with_object(clause, text)
    return f"{clause} {text}"


def _fit(calls: list[tuple[str, dict[str, Any]]], tools: dict[str, dict]) -> tuple[list, str | None]:
    fitted = []
    for name, args in calls:
        parameters = tools.get(name, {})
        value = schema.fit(args, parameters)
        problems = schema.check(value, parameters)
        if problems:
            action = answers.ACTIONS.get(name, name)
            return [], (f"I couldn't prepare {action} from that request ({problems[0]}). "
                        "Could you rephrase it with the missing details?")
        fitted.append((name, value))
    return fitted, None


def compose(lines: list[str], conversation: Conversation, asked: bool = False) -> str:
    prefs = conversation.prefs
    text = ""
    for line in lines:
        if not line:
            continue
        joiner = "\n" if line.startswith(("- ", "...")) or text.endswith(":") or "\n" in line or text.rsplit(
            "\n", 1)[-1].startswith("- ") else " "
        text = line if not text else text + joiner + line
    text = text.strip() or "Done."
    if prefs.tone == "friendly" and not prefs.concise and not asked and not text.endswith("?"):
        text += "\nLet me know if there's anything else I can do."
    return text


def not_understood(text: str, conversation: Conversation) -> str:
    head = f"Sorry, I didn't understand \u201c{_short(text)}\u201d."
    return f"{head} {answers.capabilities(conversation.tools, conversation.prefs)}"


def _short(text: str, size: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "\u2026"


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())
