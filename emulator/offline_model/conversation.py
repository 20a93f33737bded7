"""The OpenAI request as a conversation: turns (a user message and the tool exchanges after it), the user's
preferences from the system prompt, and the context that earlier turns give ("it", "bob", "the batch")."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import extract
from .normalise import normalise

_TODAY_RE = re.compile(r"\b(?:today is|today's date is|current date(?: is)?:?|date today:?)\s*(\d{4}-\d{2}-\d{2})", re.I)
_CONCISE = {"concise", "short", "brief", "terse", "low", "minimal"}
_DETAILED = {"detailed", "verbose", "long", "high", "full", "thorough"}


@dataclass
class Call:
    id: str
    name: str
    args: dict[str, Any]


@dataclass
class Exchange:
    """One assistant message with tool calls, and the results that answered them (same order)."""

    calls: list[Call]
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.calls]


@dataclass
class Turn:
    user_text: str  # in the planner's canonical wording (normalise.py)
    exchanges: list[Exchange] = field(default_factory=list)
    reply: str | None = None
    raw: str = ""  # as the person wrote it


@dataclass
class Prefs:
    tone: str = "neutral"          # "concise", "friendly", "formal" or "neutral"
    verbosity: str = "normal"      # "concise", "normal" or "detailed"

    @property
    def concise(self) -> bool:
        return self.verbosity == "concise"


def message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def parse_result(content: Any) -> dict[str, Any]:
    text = message_text(content)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"summary": text.strip()} if text.strip() else {}
    return value if isinstance(value, dict) else {"summary": text.strip(), "data": value}


def parse_prefs(line: str) -> Prefs:
    """Read 'tone: friendly; verbosity: concise' (also '=' or JSON quotes) from the system prompt's first line."""
    prefs = Prefs()
    tone = re.search(r"\btone\b[\"']?\s*[:=]\s*[\"']?([A-Za-z-]+)", line, re.I)
    verbosity = re.search(r"\bverbosity\b[\"']?\s*[:=]\s*[\"']?([A-Za-z-]+)", line, re.I)
    if tone:
        prefs.tone = tone.group(1).lower()
    if verbosity:
        word = verbosity.group(1).lower()
        prefs.verbosity = "concise" if word in _CONCISE else "detailed" if word in _DETAILED else "normal"
    if prefs.tone == "concise" and not verbosity:
        prefs.verbosity = "concise"
    return prefs


class Conversation:
    def __init__(self, messages: list[dict[str, Any]], tools: dict[str, dict], today: dt.date | None = None):
        self.tools = tools
        self.turns: list[Turn] = []
        self.prefs = Prefs()
        self.remembered: list[dict[str, str]] = []  # contacts the system prompt says are remembered
        self.default_cc: list[dict[str, str]] = []
        self.preferred_template: str | None = None
        found_today: dt.date | None = None
        seen_system = False
        for message in messages:
            role = message.get("role")
            if role in {"system", "developer"}:
                text = message_text(message.get("content"))
                if not seen_system:
                    self.prefs = parse_prefs(text.strip().splitlines()[0] if text.strip() else "")
                    seen_system = True
                self.remembered += remembered(text, "contacts") + remembered(text, "default_cc")
                self.default_cc += remembered(text, "default_cc")
                preferred = re.search(r"\bpreferred_template:\s*([^|\n]+)", text)
                if preferred:
                    self.preferred_template = preferred.group(1).strip()
                match = _TODAY_RE.search(text)
                if match:
                    found_today = dt.date.fromisoformat(match.group(1))
            elif role == "user":
                raw = message_text(message.get("content"))
                self.turns.append(Turn(normalise(raw), raw=raw))
            elif role == "assistant":
                turn = self._turn()
                if message.get("tool_calls"):
                    calls = [Call(c["id"], c["function"]["name"], _loads(c["function"].get("arguments")))
                             for c in message["tool_calls"]]
                    turn.exchanges.append(Exchange(calls, [{} for _ in calls]))
                else:
                    turn.reply = message_text(message.get("content"))
            elif role in {"tool", "function"}:
                self._attach(message.get("tool_call_id"), parse_result(message.get("content")))
        self.today = found_today or today or dt.date.today()

    def _turn(self) -> Turn:
        if not self.turns:
            self.turns.append(Turn(""))
        return self.turns[-1]

    def _attach(self, call_id: str | None, result: dict[str, Any]) -> None:
        for turn in reversed(self.turns):
            for exchange in reversed(turn.exchanges):
                for index, call in enumerate(exchange.calls):
                    if call.id == call_id:
                        exchange.results[index] = result
                        return

    def context(self, turn_index: int, position: int) -> Context:
        """What is known before the `position`-th exchange of turn `turn_index`."""
        events: list[tuple[str, Any]] = []
        for index, turn in enumerate(self.turns[: turn_index + 1]):
            events.append(("user", turn.user_text))
            exchanges = turn.exchanges if index < turn_index else turn.exchanges[:position]
            for exchange in exchanges:
                events.append(("exchange", len(exchange.calls)))
                for call, result in zip(exchange.calls, exchange.results):
                    events.append(("call", call))
                    events.append(("result", (call.name, result)))
        context = Context(events, self.tools, self.today, [t.user_text for t in self.turns[:turn_index]])
        context.remembered, context.default_cc = self.remembered, self.default_cc
        context.preferred_template = self.preferred_template
        return context


class Context:
    """Answers the planner's questions about earlier parts of the conversation, most recent first."""

    def __init__(self, events: list[tuple[str, Any]], tools: dict[str, dict], today: dt.date, earlier: list[str]):
        self.events = events
        self.tools = tools
        self.today = today
        self.earlier_user_texts = earlier
        self.remembered: list[dict[str, str]] = []
        self.default_cc: list[dict[str, str]] = []
        self.preferred_template: str | None = None

    def has_tool(self, name: str) -> bool:
        return name in self.tools

    def recent_envelope_id(self) -> str | None:
        for kind, value in reversed(self.events):
            if kind == "result":
                _, result = value
                envelope = result.get("envelope")
                if isinstance(envelope, dict) and envelope.get("envelopeId"):
                    return str(envelope["envelopeId"])
                if result.get("envelopeId"):
                    return str(result["envelopeId"])
                listed = result.get("envelopes")
                if isinstance(listed, list) and len(listed) == 1 and isinstance(listed[0], dict):
                    if listed[0].get("envelopeId"):
                        return str(listed[0]["envelopeId"])
            elif kind == "call" and isinstance(value.args.get("envelope_id"), str):
                return value.args["envelope_id"]
            elif kind == "user" and extract.guids(value):
                return extract.guids(value)[-1]
        return None

    def emails_on(self, envelope_id: str) -> set[str] | None:
        """The recipients' emails of an envelope seen in a tool result or sent in this conversation; None when
        nothing says who is on it."""
        for kind, value in reversed(self.events):
            if kind == "result":
                result = value[1]
                candidates = [result.get("envelope")] + list(result.get("envelopes") or [])
                for envelope in candidates:
                    if isinstance(envelope, dict) and str(envelope.get("envelopeId")) == envelope_id:
                        people = recipients_of(envelope)
                        if people:
                            return {str(p["email"]).lower() for p in people}
        return None

    def listed_envelopes(self) -> list[dict[str, Any]]:
        """The envelopes of the latest list the person was shown (the list_envelopes results of one exchange:
        "sent to otto@x.com or pam@x.com" lists each), in order."""
        found: list[list[dict[str, Any]]] = []
        for kind, value in reversed(self.events):
            if kind == "exchange" and found:
                break
            if kind == "result" and value[0] == "list_envelopes" and isinstance(value[1].get("envelopes"), list):
                found.insert(0, [e for e in value[1]["envelopes"] if isinstance(e, dict)])
        return [e for shown in found for e in shown]

    def people(self) -> list[dict[str, str]]:
        """Everyone named with an email so far, oldest first."""
        found: list[dict[str, str]] = list(self.remembered)
        for kind, value in self.events:
            if kind == "user":
                found += [extract.person(value, e) for e in extract.emails(value)]
            elif kind == "call":
                for key in ("signers", "recipients", "cc", "rows"):
                    found += [p for p in value.args.get(key) or [] if isinstance(p, dict) and p.get("email")]
            elif kind == "result":
                found += recipients_of(value[1].get("envelope"))
        return found

    def last_person(self) -> dict[str, str] | None:
        """Who "him", "her" or "them" most likely means: the person named with an email most recently."""
        found = self.people()
        return dict(found[-1]) if found else None

    def email_for(self, name: str) -> str | None:
        name = name.lower()
        for person in reversed(self.people()):
            full = str(person.get("name") or "").lower()
            email = str(person["email"])
            if name in {full, full.split(" ")[0] if full else ""} or email.lower().split("@")[0].startswith(name):
                return email
        return None

    def recent_batch(self) -> str | None:
        for kind, value in reversed(self.events):
            if kind == "result" and value[0] == "bulk_send" and value[1].get("batch_id"):
                return str(value[1]["batch_id"])
            if kind == "result" and isinstance(value[1].get("batch"), dict):
                batch = value[1]["batch"]
                for key in ("batchId", "batch_id", "id", "name", "batchName"):
                    if batch.get(key):
                        return str(batch[key])
            if kind == "call" and value.name == "get_bulk_send_status" and value.args.get("batch"):
                return str(value.args["batch"])
        return None

    def recent_document(self) -> str | None:
        for kind, value in reversed(self.events):
            if kind == "call" and value.name in {"analyze_document", "ask_document", "send_document"}:
                return str(value.args.get("document") or "") or None
            if kind == "user" and extract.filenames(value):
                return extract.filenames(value)[-1]
        return None

    def last_signer_email(self) -> str | None:
        for kind, value in reversed(self.events):
            if kind == "result":
                signers = [p for p in recipients_of(value[1].get("envelope")) if p.get("type", "signer") == "signer"]
                if signers:
                    return signers[0]["email"]
            if kind == "call" and value.name in {"send_document", "send_template"}:
                people = value.args.get("signers") or value.args.get("recipients") or []
                if people and isinstance(people[0], dict) and people[0].get("email"):
                    return str(people[0]["email"])
        return None

    def last_sent(self) -> dict | None:
        """The arguments of the latest send (send_template or send_document), to send "the same" again."""
        for kind, value in reversed(self.events):
            if kind == "call" and value.name in {"send_template", "send_document"}:
                return dict(value.args)
        return None

    def last_list_args(self) -> dict | None:
        for kind, value in reversed(self.events):
            if kind == "call" and value.name == "list_envelopes":
                return dict(value.args)
        return None

    def previous_send_clause(self) -> str | None:
        from . import phrasing

        for text in reversed(self.earlier_user_texts):
            for clause in phrasing.split_clauses(text):
                if phrasing.classify(clause) == "send" and (extract.emails(clause) or extract.filenames(clause)):
                    return clause
        return None


def remembered(system_text: str, part: str) -> list[dict[str, str]]:
    """People in the system prompt's memory line ("contacts: Dana Cruz <dana@x.com>; eve@y.com | default_cc: ...")."""
    match = re.search(rf"\b{part}:\s*([^|\n]+)", system_text)
    if not match:
        return []
    people = []
    for item in match.group(1).split(";"):
        found = extract.emails(item)
        if found:
            name = item.split("<")[0].strip() if "<" in item else ""
            people.append({"name": name or extract.name_from_email(found[0]), "email": found[0]})
    return people


def recipients_of(envelope: Any) -> list[dict[str, Any]]:
    """Flatten an envelope's recipients ({'signers': [...], 'carbonCopies': [...]} or a plain list)."""
    if not isinstance(envelope, dict):
        return []
    raw = envelope.get("recipients")
    people: list[dict[str, Any]] = []
    if isinstance(raw, dict):
        for group, items in raw.items():
            kind = "cc" if "carbon" in group.lower() or group.lower() == "cc" else "signer"
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and item.get("email"):
                    people.append({"type": kind, **item})
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and item.get("email"):
                kind = str(item.get("type") or item.get("recipientType") or "signer").lower()
                people.append({**item, "type": "cc" if "carbon" in kind or kind == "cc" else "signer"})
    return people


def _loads(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    try:
        value = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
