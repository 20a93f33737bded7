"""Turn one clause of a request into an Intent: the tool it needs and the arguments it gives.

When an argument is missing the intent carries a question to ask instead (`ask`) and the missing slot's name.
When the clause points at an envelope without its id, the intent carries `lookup`: list_envelopes filters that
find it first. The conversation context (`ctx`) fills references like "it" or "bob".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import corrections, dialogue, extract, memories, phrasing, schedules, sending, slots

ENVELOPE_KINDS = {"status", "envelope_documents", "audit", "send_draft", "signing_link", "remind", "correct",
                  "void", "download"}
_EXPLICIT_LOOKUP = re.compile(
    r"\b(?:i|we) (?:sent|just sent)\b|\benvelopes?\s+(?:to|for|from|with|that|about|called|named|titled)\b"
    r"|\b(?:latest|last|most recent|newest|pending|all|every|my)\b.*\benvelopes?\b|\benvelopes\b", re.I)


class Context(Protocol):
    today: Any
    default_cc: list[dict[str, str]]
    preferred_template: str | None

    def recent_envelope_id(self) -> str | None: ...
    def email_for(self, name: str) -> str | None: ...
    def last_person(self) -> dict[str, str] | None: ...
    def recent_batch(self) -> str | None: ...
    def recent_document(self) -> str | None: ...
    def last_signer_email(self) -> str | None: ...
    def last_list_args(self) -> dict | None: ...
    def last_sent(self) -> dict | None: ...
    def previous_send_clause(self) -> str | None: ...
    def has_tool(self, name: str) -> bool: ...
    def listed_envelopes(self) -> list[dict[str, Any]]: ...
    def emails_on(self, envelope_id: str) -> set[str] | None: ...


@dataclass
class Intent:
    kind: str
    text: str
    args: dict[str, Any] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)      # envelope ids to act on (several = one call each)
    lookup: dict[str, Any] | None = None              # list_envelopes filters to find the envelope(s)
    pick: str = "one"                                 # "one", "all" or "latest" of the lookup's results
    ask: str | None = None                            # question for the user instead of acting
    slot: str | None = None                           # name of the missing slot behind `ask`
    focus: str | None = None                          # answer focus, e.g. "unsigned"
    recipient_name: str | None = None                 # a recipient to resolve via get_envelope_status
    about: str | None = None                          # what the envelope is ("NDA"), to tell several apart
    document_lookup: str | None = None                # words naming an uploaded document, found via list_my_documents
    fan_out: list[dict[str, Any]] = field(default_factory=list)  # one call per entry ("to otto@x or pam@x")

    @property
    def tool(self) -> str | None:
        if self.kind == "send":
            return "send_document" if "document" in self.args or self.document_lookup is not None else "send_template"
        return phrasing.TOOL_OF.get(self.kind)

    def missing(self, slot: str, question: str) -> Intent:
        self.slot, self.ask = slot, question
        return self


def build(clause: str, ctx: Context, kind: str | None = None) -> Intent | None:
    kind = kind or phrasing.classify(clause)
    if kind is None and phrasing.about_a_document(clause) and ctx.recent_document():
        kind = phrasing.analysis_kind(clause)  # "any red flags?" right after a file was attached
    if kind is None:
        return None
    intent = Intent(kind, clause)
    builder = _BUILDERS.get(kind)
    if builder:
        builder(intent, clause, ctx)
    if intent.kind in ENVELOPE_KINDS and (not intent.ask or intent.slot == "reason"):
        _resolve_envelope(intent, clause, ctx)
    return intent


# --- envelopes -----------------------------------------------------------------------------------------
def _resolve_envelope(intent: Intent, clause: str, ctx: Context) -> None:
    if intent.ids or intent.args.get("envelope_id"):
        return
    head = slots.without(clause, intent.args.get("reason")) if intent.kind == "void" else clause
    found = extract.guids(head)
    if found:
        intent.ids = found
        return
    listed = ctx.listed_envelopes()
    if listed and dialogue.ALL_SHOWN.search(head):  # "remind them both", "void all of those"
        intent.ids = [str(e["envelopeId"]) for e in listed if e.get("envelopeId")][:20]
        return
    shown = dialogue.referenced_envelope(head, listed)
    if shown:
        intent.ids = [shown]
        return
    filters: dict[str, Any] = {}
    old = intent.args.get("recipient") if intent.kind == "correct" else None
    if old and "@" in str(old):
        filters["recipient"] = old
    elif intent.kind != "correct" and extract.emails(head):
        filters["recipient"] = extract.emails(head)[0]
    elif (name := slots.person_named(head)) and name != intent.args.get("name"):
        filters["recipient"] = name
    status = phrasing.status_word(head) if intent.kind in {"remind", "void", "download", "audit"} else (
        "created" if intent.kind == "send_draft" else None)
    if status:
        filters["status"] = status
    intent.about = slots.specific_thing(head)
    explicit = bool(_EXPLICIT_LOOKUP.search(head))
    recent = ctx.recent_envelope_id()
    named = str(filters.get("recipient") or "").lower()
    if recent and "@" in named and named not in (ctx.emails_on(recent) or {named}):
        recent = None  # "the one for pam@x.com" when the envelope in view is not hers: look hers up
    if (explicit or ((filters or intent.about) and not recent)) and ctx.has_tool("list_envelopes"):
        intent.lookup = filters
        intent.pick = "all" if phrasing.wants_all(head) and intent.kind in {"remind", "status"} else (
            "latest" if phrasing.wants_latest(head) else "one")
    elif recent:
        intent.ids = [recent]
    elif intent.kind == "status" and ctx.has_tool("list_envelopes"):
        intent.kind = "list_envelopes"  # "anything still waiting on signatures?" names no envelope: list them
        _list_envelopes(intent, clause, ctx)
    else:
        intent.missing("envelope", "Which envelope do you mean? Please give me its envelope id.")


def _status(intent: Intent, clause: str, ctx: Context) -> None:
    if re.search(r"hasn'?t|has not|haven'?t|have not|not (?:yet )?signed|still (?:need|waiting)|yet to sign"
                 r"|left to sign|waiting on|outstanding|who still|pending signers", clause, re.I):
        intent.focus = "unsigned"


def _void(intent: Intent, clause: str, ctx: Context) -> None:
    quotes = extract.quoted(clause)
    reason = slots.void_reason(clause, lambda text: phrasing.classify(text) not in {None, "thanks", "void"})
    if not reason and quotes and re.search(r"reason", clause, re.I):
        reason = quotes[0].strip()
    if not reason:
        intent.missing("reason", "Why should it be voided? I need a short reason, which the recipients will see.")
        return
    intent.args["reason"] = (reason[0].upper() + reason[1:])[:200]


def _remind(intent: Intent, clause: str, ctx: Context) -> None:
    pass


def _signing_link(intent: Intent, clause: str, ctx: Context) -> None:
    found = extract.emails(clause)
    number = extract.number_after(clause, r"\b(?:recipient|signer)\s*#?\s*(\d+)\b")
    back = re.search(r"(?:return|redirect)(?:\s+url)?(?:\s+to)?\s+(https?://\S+)", clause, re.I)
    if back:
        intent.args["return_url"] = back.group(1).rstrip(".,")
    name = re.search(r"\bfor\s+([A-Za-z][\w-]*)\b(?!@)", clause)
    if found:
        intent.args["recipient"] = found[0]
    elif number:
        intent.args["recipient"] = str(number)
    elif name and name.group(1).lower() not in {"the", "it", "this", "that", "me", "envelope", "signing", "my"}:
        intent.recipient_name = name.group(1)
    elif not extract.guids(clause) and (signer := ctx.last_signer_email()):
        intent.args["recipient"] = signer
    else:
        intent.recipient_name = "*"  # the first signer who hasn't signed yet, read from the envelope


def _download(intent: Intent, clause: str, ctx: Context) -> None:
    intent.args["document"] = phrasing.download_kind(clause)


# --- bulk, analysis, lists ------------------------------------------------------------------------------
def _bulk_status(intent: Intent, clause: str, ctx: Context) -> None:
    batch = phrasing.batch_ref(clause) or ctx.recent_batch()
    if batch:
        intent.args["batch"] = batch
    else:
        intent.missing("batch", "Which batch? Give me the batch id or its name.")


def _analyze(intent: Intent, clause: str, ctx: Context) -> None:
    document = (extract.filenames(clause) or extract.guids(clause) or extract.quoted(clause) or [None])[0]
    described = slots.document_described(sending.without_upload(clause))
    if not document and (sending.UPLOADED.search(clause) or described and not ctx.recent_document()):
        intent.document_lookup = described or ""
        document = "?"  # found by the lookup
    document = document or ctx.recent_document() or ctx.recent_envelope_id()
    if not document:
        intent.missing("document", "Which document? Give me the file name or the envelope id.")
        return
    if document != "?":
        intent.args["document"] = document
    if intent.kind == "ask":
        intent.args["question"] = re.sub(r"\s*\[attached file[^\]]*\]", "", clause).strip()[:2000]
    else:
        intent.args["kind"] = phrasing.analysis_mode(clause) if phrasing.analysis_mode(clause) != "question" else "summary"


def _list_envelopes(intent: Intent, clause: str, ctx: Context) -> None:
    status = phrasing.status_word(clause)
    if status and not (status == "sent" and re.search(r"\benvelopes sent\b|\bwhat (?:have|did) i sent\b", clause, re.I)
                       and not re.search(r"\bsent envelopes\b|waiting|pending|awaiting|outstanding", clause, re.I)):
        intent.args["status"] = status
    start, end = extract.date_range(clause, ctx.today)
    if start:
        intent.args["from_date"] = start.isoformat()
    if end:
        intent.args["to_date"] = end.isoformat()
    found = extract.emails(clause)
    recipient = found[0] if found else slots.person_named(clause)
    if len(found) > 1:
        intent.fan_out = [{"recipient": email} for email in found[:5]]  # the tool filters by one recipient
    elif recipient:
        intent.args["recipient"] = recipient
    quotes = extract.quoted(clause)
    about = re.search(r"\b(?:about|mentioning|containing|titled|subject)\s+([\w][\w&'-]*(?:\s+[\w&'-]+){0,3}?)"
                      r"(?=\s+(?:from|to|sent|last|this|since|before|after|in|that)\b|[?.!,]|$)", clause, re.I)
    if quotes or about:
        intent.args["search_text"] = quotes[0] if quotes else about.group(1)
    count = extract.number_after(clause, r"\b(?:last|latest|top|first|recent)\s+(\d{1,3})\b(?!\s*(?:days?|weeks?|months?))"
                                 ) or extract.number_after(clause, r"\b(\d{1,3})\s+(?:most\s+)?(?:recent|latest|newest)\b")
    if count:
        intent.args["count"] = max(1, min(count, 100))


def _more(intent: Intent, clause: str, ctx: Context) -> None:
    previous = dict(ctx.last_list_args() or {})
    previous["start_position"] = int(previous.get("start_position", 0)) + int(previous.get("count", 20))
    intent.args = previous


def _list_templates(intent: Intent, clause: str, ctx: Context) -> None:
    quotes = extract.quoted(clause)
    match = re.search(r"templates?\s+(?:for|about|named|called|matching|with)\s+[\"“]?([\w][\w\s-]*?)[\"”]?[?.!]*$",
                      clause, re.I)
    if quotes or match:
        intent.args["search_text"] = quotes[0] if quotes else match.group(1)


def _get_template(intent: Intent, clause: str, ctx: Context) -> None:
    name = phrasing.template_name(clause)
    if name:
        intent.args["template"] = name
    else:
        intent.kind = "list_templates"


def _my_documents(intent: Intent, clause: str, ctx: Context) -> None:
    quotes = extract.quoted(clause)
    match = re.search(r"\b(?:called|named|matching|containing)\s+(\S+)", clause, re.I)
    if quotes or match:
        intent.args["search_text"] = (quotes[0] if quotes else match.group(1)).strip("?.!")


# --- scheduled tasks ---------------------------------------------------------------------------------------
def _schedule(intent: Intent, clause: str, ctx: Context) -> None:
    timing = schedules.read(clause, ctx.today)
    if phrasing.classify(timing.instruction) in {None, "thanks", "help", "schedule", "list_tasks", "cancel_task"}:
        intent.missing("instruction", "What should I do on that schedule? For example: remind everyone who hasn't "
                                      "signed yet.")
        return
    intent.args = {"instruction": timing.instruction[:1000], "schedule": timing.schedule}
    if timing.timezone:
        intent.args["timezone"] = timing.timezone
    if timing.end_time:
        intent.args["end_time"] = timing.end_time


def _cancel_task(intent: Intent, clause: str, ctx: Context) -> None:
    found = extract.guids(clause)
    if found:
        intent.ids, intent.args = [], {"task_id": found[0]}
    else:
        intent.about = clause  # which task: read from list_scheduled_tasks (steps.py)


_BUILDERS = {
    "status": _status, "void": _void, "correct": corrections.build, "remind": _remind, "signing_link": _signing_link,
    "download": _download, "send": sending.send, "bulk_send": sending.bulk_send, "bulk_status": _bulk_status,
    "analyze": _analyze, "ask": _analyze, "list_envelopes": _list_envelopes, "more": _more,
    "remember": memories.remember, "forget": memories.forget, "list_memories": memories.list_memories,
    "list_templates": _list_templates, "get_template": _get_template, "my_documents": _my_documents,
    "schedule": _schedule, "cancel_task": _cancel_task,
}
