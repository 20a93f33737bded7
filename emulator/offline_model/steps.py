"""Carry out one intent over the exchanges that already happened for it.

`run` looks at the exchanges since the intent started and returns either the next tool calls (`Calls`) or that
the intent is finished (`Done`: how many exchanges it used and the sentences to say). A lookup intent takes
two exchanges: list_envelopes, then the action on what it found.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from . import answers, corrections, dialogue, guards, schedules
from .conversation import Context, Exchange, Prefs
from .intents import Intent

_ACTIONABLE = guards.ACTIONABLE
_VERBS = {"void": "void", "remind": "remind", "correct": "correct", "status": "check", "download": "download",
          "audit": "show the history of", "envelope_documents": "list the documents of", "send_draft": "send",
          "signing_link": "create a signing link for"}


@dataclass
class Calls:
    calls: list[tuple[str, dict[str, Any]]]


@dataclass
class Done:
    consumed: int
    lines: list[str]
    ok: bool = True
    asked: bool = False
    slot: str | None = None  # what the question asks for, when it is not the intent's own missing slot


def run(intent: Intent, ctx: Context, done: list[Exchange], prefs: Prefs) -> Calls | Done:
    if intent.kind == "help":
        return Done(0, [answers.capabilities(ctx.tools, prefs)])
    if intent.kind == "thanks":
        return Done(0, ["You're welcome!" if prefs.tone != "formal" else "You are welcome."])
    if intent.ask and not (intent.slot == "reason" and intent.lookup is not None):
        return Done(0, [intent.ask], ok=False, asked=True)
    tool = intent.tool
    if not tool or not ctx.has_tool(tool):
        action = answers.ACTIONS.get(tool or "", "that")
        return Done(0, [f"I can't help with {action} right now because that tool isn't available to me."], ok=False)
    used = 0
    ids = list(intent.ids)
    if intent.lookup is not None:
        if not done:
            return Calls([("list_envelopes", _lookup_args(intent.lookup))])
        result, used = _read(done, 0, "list_envelopes", prefs), 1
        if isinstance(result, Done):
            return result
        ids, problem = choose(result.get("envelopes") or [], intent)
        if problem:
            return Done(used, [problem], ok=False, asked=bool(ids is None))
        if intent.ask:  # the envelope is found and can be acted on: now ask for what is missing (the reason)
            return Done(used, [intent.ask], ok=False, asked=True)
    args = dict(intent.args)
    checked: dict[str, dict[str, Any]] = {}
    lines: list[str] = []
    seen = guards.seen_envelopes(ctx.events) if intent.kind in guards.GUARDED and intent.lookup is None else {}
    if ids and seen and all(i in seen for i in ids):
        found = guards.verdict_from_seen(ids, seen, intent.kind)
        ids, checked, lines = found.ids, found.envelopes, found.lines
        if not ids:
            return Done(used, lines, ok=False)
    elif guards.needs_check(intent.kind, ids, intent.lookup is not None, seen) and ctx.has_tool("get_envelope_status"):
        if len(done) <= used:
            return Calls(guards.check_calls(ids))
        if done[used].names != ["get_envelope_status"] * len(ids):
            return _unexpected(done[used:], prefs, offset=used)
        found = guards.verdict(done[used], ids, intent.kind)
        used, ids, checked, lines = used + 1, found.ids, found.envelopes, found.lines
        if not ids:
            return Done(used, lines, ok=False)
    if intent.kind == "cancel_task" and "task_id" not in args:
        if len(done) <= used:
            return Calls([("list_scheduled_tasks", {})])
        result, used = _read(done, used, "list_scheduled_tasks", prefs), used + 1
        if isinstance(result, Done):
            return result
        found_tasks, problem = schedules.choose_task(result.get("tasks") or [], intent.about or intent.text)
        if problem:
            return Done(used, [problem], ok=False, asked=found_tasks is None)
        if len(done) <= used:
            return Calls([(tool, {"task_id": task_id}) for task_id in found_tasks or []])
    if intent.document_lookup is not None:
        if len(done) <= used:
            return Calls([("list_my_documents", {})])
        result, used = _read(done, used, "list_my_documents", prefs), used + 1
        if isinstance(result, Done):
            return result
        name, problem = choose_document(result.get("documents") or [], intent.document_lookup)
        if problem and not name and intent.kind == "send":  # nothing uploaded matches: a template, maybe?
            what = f" matching “{intent.document_lookup}”" if intent.document_lookup else ""
            return Done(used, [f"I couldn't find an uploaded document{what}. Which document or template should I "
                               "send? Upload the file first, or name a template (like the NDA)."],
                        ok=False, asked=True, slot="document")
        if problem:
            return Done(used, [problem], ok=False, asked=name is None, slot="document" if name is None else None)
        args["document"] = name
    if intent.recipient_name:
        if checked.get(ids[0], {}).get("recipients"):
            result = {"envelope": checked[ids[0]]}
        elif len(done) <= used:
            return Calls([("get_envelope_status", {"envelope_id": ids[0]})])
        else:
            result, used = _read(done, used, "get_envelope_status", prefs), used + 1
        if isinstance(result, Done):
            return result
        email = corrections.pick_recipient(result.get("envelope"), intent.recipient_name, intent.args)
        if not email:
            who = {"*": "a signer who still has to sign", "?": "a single signer to change (tell me their email)"}.get(
                intent.recipient_name, f"a recipient called {intent.recipient_name}")
            return Done(used, [f"I couldn't find {who} on envelope {ids[0]}."], ok=False)
        args["recipient"] = email
    if len(done) <= used:
        if ids:
            return Calls([(tool, {"envelope_id": envelope_id, **args}) for envelope_id in ids])
        return Calls([(tool, {**args, **extra}) for extra in intent.fan_out] or [(tool, args)])
    exchange = done[used]
    if exchange.names and set(exchange.names) != {tool}:
        return _unexpected(done[used:], prefs, offset=used)
    described = answers.describe(exchange, prefs, intent.focus)
    if len(exchange.calls) > 1 and not prefs.concise and not intent.fan_out:
        ok = sum(not answers.is_error(r) for r in exchange.results)
        described.insert(0, f"{ok} of {len(exchange.calls)} succeeded:")
    return Done(used + 1, lines + described, ok=not any(answers.is_error(r) for r in exchange.results))


def _read(done: list[Exchange], at: int, tool: str, prefs: Prefs) -> dict[str, Any] | Done:
    """The result of the look-up call `tool` made at exchange `at`, or the answer when it failed or another call
    was made there."""
    exchange = done[at]
    if exchange.names != [tool]:
        return _unexpected(done, prefs)
    result = exchange.results[0]
    if answers.is_error(result):
        return Done(at + 1, [answers.error_line(tool, result)], ok=False)
    return result


def choose(envelopes: list[Any], intent: Intent) -> tuple[list[str] | None, str | None]:
    """Pick the envelope(s) a lookup found; or say why not (none found, or which one?)."""
    envelopes = [e for e in envelopes if isinstance(e, dict) and e.get("envelopeId")]
    where = _filters_phrase(intent.lookup or {})
    if not envelopes:
        return [], f"I couldn't find any envelopes{where}, so I didn't {_VERBS.get(intent.kind, 'do')} anything."
    if intent.pick == "all":
        if intent.kind in {"void", "remind", "correct", "send_draft"}:
            envelopes = [e for e in envelopes if str(e.get("status", "")).lower() in _ACTIONABLE] or envelopes
        return [str(e["envelopeId"]) for e in envelopes[:20]], None
    if intent.pick == "latest":
        return [str(max(envelopes, key=_when)["envelopeId"])], None
    envelopes = dialogue.narrow(envelopes, intent.about)
    if intent.kind in {"void", "remind", "correct", "send_draft"}:
        actionable = [e for e in envelopes if str(e.get("status", "")).lower() in _ACTIONABLE]
        if not actionable:
            return [], guards.finished_line(envelopes, intent.kind)
        envelopes = actionable
    if len(envelopes) == 1:
        return [str(envelopes[0]["envelopeId"])], None
    listed = "\n".join(f"- {answers.envelope_item(e)}" for e in envelopes[:10])
    verb = _VERBS.get(intent.kind, "use")
    return None, (f"I found {len(envelopes)} envelopes{where}:\n{listed}\n"
                  f"Which one should I {verb}? Please give me its envelope id.")


def choose_document(documents: list[Any], words: str) -> tuple[str | None, str | None]:
    """The uploaded document `words` describe ("consulting agreement" finds consulting-agreement.pdf), or why
    not: none matches, or several do (then which one?)."""
    documents = [d for d in documents if isinstance(d, dict) and d.get("filename")]
    wanted = set(re.findall(r"[^\W_]+", words.lower())) - {"the", "a", "my", "our", "document", "file", "pdf"}
    scored = [(len(wanted & set(re.findall(r"[^\W_]+", str(d["filename"]).lower()))), d) for d in documents]
    best = max((score for score, _ in scored), default=0)
    found = [d for score, d in scored if score == best] if wanted else documents
    if not documents or (wanted and not best):
        what = f" matching “{words}”" if wanted else ""
        return "", f"I couldn't find an uploaded document{what}. Upload it first, or tell me its file name."
    if len(found) == 1:
        return str(found[0]["filename"]), None
    listed = "\n".join(f"- {d['filename']}" for d in found[:10])
    return None, f"I found {len(found)} uploaded documents that could be meant:\n{listed}\nWhich one do you mean?"


def _lookup_args(filters: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v is not None}


def _filters_phrase(filters: dict[str, Any]) -> str:
    parts = []
    if filters.get("status"):
        parts.append({"sent": "waiting for signature", "created": "in draft"}.get(filters["status"], filters["status"]))
    if filters.get("recipient"):
        parts.append(f"sent to {filters['recipient']}")
    return (" " + " and ".join(parts)) if parts else ""


def _when(envelope: dict[str, Any]) -> str:
    for key in ("statusChangedDateTime", "lastModifiedDateTime", "sentDateTime", "createdDateTime"):
        if envelope.get(key):
            return str(envelope[key])
    return dt.date.min.isoformat()


def _unexpected(done: list[Exchange], prefs: Prefs, offset: int = 0) -> Done:
    """The conversation took a different path (e.g. another model made the calls): report what came back."""
    lines: list[str] = []
    for exchange in done:
        lines += answers.describe(exchange, prefs)
    return Done(offset + len(done), lines, ok=False)
