"""Turn tool results into plain sentences.

Successful results carry `summary` (one sentence) and data; failures carry `error` (a code) and `message`.
Nothing here invents an id or a result: every sentence comes from a result field or the planner's own words.
"""

from __future__ import annotations

from typing import Any

from .conversation import Exchange, Prefs, recipients_of

ACTIONS = {  # tool -> what doing it is called in a sentence ("Nothing was done: <this> was rejected.")
    "list_envelopes": "listing your envelopes", "get_envelope_status": "checking the envelope",
    "list_templates": "listing your templates", "get_template": "opening the template",
    "list_envelope_documents": "listing the envelope's documents", "get_audit_events": "reading the audit trail",
    "list_my_documents": "listing your uploaded documents", "send_document": "sending the document",
    "send_template": "sending the template", "send_draft": "sending the draft",
    "create_signing_link": "creating the signing link", "remind_recipients": "reminding the recipients",
    "correct_recipient": "correcting the recipient", "void_envelope": "voiding the envelope",
    "download_document": "downloading the document", "bulk_send": "the bulk send",
    "get_bulk_send_status": "checking the batch", "analyze_document": "analysing the document",
    "ask_document": "answering from the document", "remember": "remembering that", "forget": "forgetting that",
    "list_memories": "listing what I remember", "schedule_task": "scheduling the task",
    "list_scheduled_tasks": "listing your scheduled tasks", "cancel_scheduled_task": "cancelling the scheduled task",
}
CAPABILITIES = [  # (tool, what the user can ask)
    ("list_envelopes", "list your envelopes (\"what's still out for signature?\")"),
    ("get_envelope_status", "check an envelope's status or who hasn't signed"),
    ("send_document", "send an uploaded document for signature (\"send contract.pdf to bob@example.com\")"),
    ("send_template", "send a template (\"send the NDA template to bob@example.com\")"),
    ("remind_recipients", "remind signers"),
    ("void_envelope", "void an envelope (with a reason)"),
    ("download_document", "download signed documents or the certificate"),
    ("list_templates", "list your templates"),
    ("bulk_send", "bulk send a template to a list of people"),
    ("analyze_document", "summarize a contract or list its key terms and risks"),
    ("ask_document", "answer questions about a document"),
    ("remember", "remember contacts, a default CC or a preferred template"),
    ("schedule_task", "do something on a schedule (\"every Monday at 9 remind everyone who hasn't signed\")"),
]
_UNSIGNED_DONE = {"completed", "signed"}


def sentence(text: Any) -> str:
    text = " ".join(str(text).split())
    if not text:
        return ""
    return text if text[-1] in ".!?:" else text + "."


def limit(prefs: Prefs) -> int:
    return 3 if prefs.concise else 25 if prefs.verbosity == "detailed" else 10


def is_error(result: dict[str, Any]) -> bool:
    return bool(result.get("error"))


def error_line(tool: str, result: dict[str, Any]) -> str:
    message = sentence(result.get("message") or "")
    if result.get("error") == "rejected":
        head = f"Nothing was done: {ACTIONS.get(tool, tool)} was rejected."
        return head if not message or "reject" in message.lower() and len(message) < 60 else f"{head} {message}"
    return message or f"That didn't work ({result.get('error')})."


def describe(exchange: Exchange, prefs: Prefs, focus: str | None = None) -> list[str]:
    lines: list[str] = []
    for call, result in zip(exchange.calls, exchange.results):
        if is_error(result):
            lines.append(error_line(call.name, result))
            continue
        if not result:
            lines.append(f"I didn't get a result back for {ACTIONS.get(call.name, call.name)}.")
            continue
        lines += _success(call.name, result, prefs, focus)
    return [line for line in lines if line]


def _success(tool: str, result: dict[str, Any], prefs: Prefs, focus: str | None) -> list[str]:
    summary = sentence(result.get("summary") or "")
    envelope = result.get("envelope") if isinstance(result.get("envelope"), dict) else None
    if tool == "get_envelope_status" and focus == "unsigned" and envelope:
        return [summary, unsigned_line(envelope)] if not prefs.concise or not summary else [unsigned_line(envelope)]
    lines = [summary or _fallback(tool, result)]
    if prefs.concise and summary and tool not in {"create_signing_link", "download_document"}:
        return lines
    if isinstance(result.get("envelopes"), list):
        lines += _items([envelope_item(e) for e in result["envelopes"] if isinstance(e, dict)], prefs)
    elif isinstance(result.get("templates"), list):
        lines += _items([_named(t, "name", "templateId") for t in result["templates"] if isinstance(t, dict)], prefs)
    elif isinstance(result.get("documents"), list):
        lines += _items([_named(d, "name", "documentId", "id", "filename") for d in result["documents"]
                         if isinstance(d, dict)], prefs)
    elif isinstance(result.get("events"), list):
        lines += _items([_event(e) for e in result["events"] if isinstance(e, dict)], prefs)
    elif envelope and tool == "get_envelope_status" and not prefs.concise:
        people = recipients_of(envelope)
        if people:
            lines.append("Recipients: " + "; ".join(f"{_who(p)}: {p.get('status', 'unknown')}" for p in people) + ".")
    url = result.get("url")
    if isinstance(url, str) and url not in " ".join(lines):
        lines.append(f"Link: {url}")
    for key in ("answer", "analysis", "text"):
        if isinstance(result.get(key), str) and result[key].strip() and result[key].strip() not in summary:
            lines.append(result[key].strip())
            break
    for key in ("risks", "key_terms", "findings", "points", "citations"):
        value = result.get(key)
        if isinstance(value, list):
            lines += _items([v if isinstance(v, str) else _flat(v) for v in value], prefs)
        elif isinstance(value, dict):
            lines += _items([f"{k.replace('_', ' ')}: {_flat(v)}" for k, v in value.items()], prefs)
    return lines


def unsigned_line(envelope: dict[str, Any]) -> str:
    signers = [p for p in recipients_of(envelope) if p.get("type") == "signer"]
    waiting = [p for p in signers if str(p.get("status", "")).lower() not in _UNSIGNED_DONE]
    if not signers:
        return "The envelope has no signers listed."
    if not waiting:
        return "Everyone has signed."
    return "Still waiting on: " + ", ".join(_who(p) for p in waiting) + "."


def envelope_item(envelope: dict[str, Any]) -> str:
    subject = envelope.get("emailSubject") or envelope.get("subject") or "(no subject)"
    status = envelope.get("status") or "unknown status"
    people = ", ".join(_who(p) for p in recipients_of(envelope)[:3])
    extra = f", to {people}" if people else ""
    return f"{subject} ({status}{extra}), id {envelope.get('envelopeId', 'unknown')}"


def capabilities(tools: dict[str, Any], prefs: Prefs) -> str:
    items = [text for tool, text in CAPABILITIES if tool in tools]
    if not items:
        return "I don't have any DocuSign tools available right now."
    items = items[:4] if prefs.concise else items
    return "I can " + (", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else items[0]) + "."


def _items(items: list[str], prefs: Prefs) -> list[str]:
    shown = [f"- {item}" for item in items[: limit(prefs)]]
    if len(items) > limit(prefs):
        shown.append(f"...and {len(items) - limit(prefs)} more.")
    return shown


def _named(item: dict[str, Any], *keys: str) -> str:
    name = next((item[k] for k in keys[:1] + keys[2:] if item.get(k)), None) or item.get(keys[1]) or "unnamed"
    ident = item.get(keys[1])
    return f"{name} (id {ident})" if ident and ident != name else str(name)


def _event(event: dict[str, Any]) -> str:
    what = event.get("action") or event.get("event") or event.get("description") or event.get("message") or "event"
    when = event.get("logTime") or event.get("timestamp") or event.get("time") or event.get("date")
    who = event.get("userName") or event.get("user") or event.get("actor")
    return " - ".join(str(x) for x in (when, what, who) if x)


def _who(person: dict[str, Any]) -> str:
    name, email = person.get("name"), person.get("email")
    return f"{name} ({email})" if name and email else str(name or email)


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    return str(value)


def _fallback(tool: str, result: dict[str, Any]) -> str:
    for key, noun in (("envelopes", "envelope"), ("templates", "template"), ("documents", "document"),
                      ("events", "event")):
        if isinstance(result.get(key), list):
            count = len(result[key])
            return f"Found {count} {noun}{'' if count == 1 else 's'}."
    return f"Done: {ACTIONS.get(tool, tool)} finished."
