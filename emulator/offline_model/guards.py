"""Read an envelope's state before acting on it, so a request that cannot apply is explained, not attempted.

A void, a reminder or a correction only makes sense while an envelope is still out (created, sent, delivered).
When the person names the envelope by id, nothing has shown its state yet: the planner reads it first
(get_envelope_status), and an envelope that is already completed, declined or voided, or one the person cannot
see (another user's), gets a sentence saying so, with no approval asked for an action that cannot happen. A
lookup by description (list_envelopes) already carries the statuses, so it needs no second read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import answers
from .conversation import Exchange

GUARDED = {"void", "remind", "correct"}
ACTIONABLE = {"created", "sent", "delivered", "correct"}
_DONE_AS = {"void": "voided", "remind": "reminded", "correct": "corrected", "send_draft": "sent"}


@dataclass
class Verdict:
    ids: list[str]                                            # the envelopes the action can still apply to
    envelopes: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> the envelope as read
    lines: list[str] = field(default_factory=list)            # why the others were left alone


def needs_check(kind: str, ids: list[str], looked_up: bool, seen: dict[str, dict[str, Any]]) -> bool:
    """Whether the state of `ids` must be read first: an action that needs an envelope still out, on envelopes
    named by id whose state no list or status result in the conversation has shown yet."""
    return kind in GUARDED and bool(ids) and not looked_up and any(i not in seen for i in ids)


def seen_envelopes(events: list[tuple[str, Any]]) -> dict[str, dict[str, Any]]:
    """id -> the envelope (with its status) as the latest tool result in the conversation showed it."""
    seen: dict[str, dict[str, Any]] = {}
    for kind, value in events:
        if kind != "result" or not isinstance(value[1], dict):
            continue
        result = value[1]
        listed = result.get("envelopes") if isinstance(result.get("envelopes"), list) else []
        for envelope in [result.get("envelope"), *listed]:
            if isinstance(envelope, dict) and envelope.get("envelopeId") and envelope.get("status"):
                seen[str(envelope["envelopeId"])] = envelope
    return seen


def verdict_from_seen(ids: list[str], seen: dict[str, dict[str, Any]], kind: str) -> Verdict:
    """`verdict` for envelopes whose state the conversation already shows."""
    results = [{"envelope": seen[i]} for i in ids]
    return _judge(ids, results, kind)


def check_calls(ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
    return [("get_envelope_status", {"envelope_id": envelope_id}) for envelope_id in ids]


def verdict(exchange: Exchange, ids: list[str], kind: str) -> Verdict:
    """Which of `ids` the action may go ahead on, from the get_envelope_status results in `exchange`."""
    return _judge(ids, exchange.results, kind)


def _judge(ids: list[str], results: list[dict[str, Any]], kind: str) -> Verdict:
    out = Verdict([])
    finished: list[dict[str, Any]] = []
    for envelope_id, result in zip(ids, results):
        if answers.is_error(result):
            out.lines.append(answers.error_line("get_envelope_status", result))
            continue
        envelope = result.get("envelope") if isinstance(result.get("envelope"), dict) else {}
        status = str(envelope.get("status") or result.get("status") or "").lower()
        if status and status not in ACTIONABLE:
            finished.append({"envelopeId": envelope_id, **envelope, "status": status})
            continue
        out.ids.append(envelope_id)
        out.envelopes[envelope_id] = envelope
    if finished:
        out.lines.append(finished_line(finished, kind, nothing_done=False))
    if out.lines and not out.ids and "Nothing was done" not in out.lines[-1]:
        out.lines[-1] += " Nothing was done."
    return out


def finished_line(envelopes: list[dict[str, Any]], kind: str, nothing_done: bool = True) -> str:
    """Why nothing can be voided, reminded or corrected: every envelope found is already finished."""
    verb = _DONE_AS.get(kind, "changed")
    items = "; ".join(f"{answers.envelope_item(e)}" for e in envelopes[:5])
    one = len(envelopes) == 1
    return (f"{'That envelope is' if one else 'Those envelopes are'} already finished ({items}), so "
            f"{'it' if one else 'they'} can't be {verb}." + (" Nothing was done." if nothing_done else ""))
