"""What is known about a tool call whose process died during it: the tool message recovery answers it with.

A run killed mid-tool leaves an AI message whose tool calls have no reply (which a real OpenAI endpoint refuses
on the next turn) and their audit rows `started`. For each such call the agent's recovery (`agent/recovery.py`)
asks here for a reply that tells the model exactly what is known, so that the next turn neither repeats what
happened nor claims it failed:

- a call that never started (no audit row: the row is committed before anything is done) did nothing;
- a call that creates an envelope is looked up in DocuSign by the `dsa_request_id` it stamped
  (`ToolContext.request_id`, derived from the call): found means it was created (and recorded in the mirror
  now), not found means DocuSign never received it, and a failed lookup means nobody knows yet;
- any other call that changes something may or may not have taken effect: the reply says to check first;
- a read (`ToolSpec.effect`) changed nothing and can be tried again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from db import mirror
from db.models import AuditLog
from tools.base import ToolSpec
from tools.context import ToolContext
from tools.results import ok

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovered:
    payload: dict[str, Any]  # the tool message's JSON
    audit_message: str  # what the audit row records
    envelope_id: str | None = None


def _stopped(message: str) -> dict[str, Any]:
    return {"error": "interrupted", "message": message}


async def recover_call(ctx: ToolContext, spec: ToolSpec | None, row: AuditLog | None) -> Recovered:
    """The reply for one unanswered call. `ctx` is the call's context in the run that died (same user, thread,
    run and tool call id, so the same request id); `row` its audit row, if it started."""
    name = spec.name if spec is not None else "this tool"
    if row is None:
        text = (f"The server stopped before {name} ran, so nothing was done. Ask the user whether to do it "
                "now.")
        return Recovered(_stopped(text), text)
    if spec is not None and spec.creates_envelope:
        return await _recover_send(ctx, spec, row)
    if spec is None or spec.effect != "read":
        text = (f"The server stopped while {name} was running, so it is not known whether DocuSign carried it "
                "out. Check the envelope's current status before doing it again.")
        return Recovered(_stopped(text), text)
    text = f"The server stopped while {name} was running; it only reads, so nothing changed: it can be tried again."
    return Recovered(_stopped(text), text)


async def _recover_send(ctx: ToolContext, spec: ToolSpec, row: AuditLog) -> Recovered:
    request_id = ctx.request_id
    since = row.started_at if isinstance(row.started_at, dt.datetime) else None
    try:
        client = await ctx.client()
        found = (await client.find_envelope_by_request_id(request_id, since=since)).value
    except Exception as exc:  # noqa: BLE001 - DocuSign not answering: say that it is not known
        log.warning("recovery of %s call %s: DocuSign lookup failed: %s", spec.name, ctx.tool_call_id, exc)
        text = (f"The server stopped while {spec.name} was running, and DocuSign could not be asked whether the "
                f"envelope was created (request id {request_id}). Do not send it again: check list_envelopes "
                "first.")
        return Recovered(_stopped(text), text)
    if found is None:
        text = (f"The server stopped while {spec.name} was running, before DocuSign received the envelope: "
                "nothing was sent. It can be sent again if the user still wants it.")
        return Recovered(_stopped(text), text)
    envelope_id, status = str(found.envelope_id), str(found.status or "sent")
    async with ctx.database.user_session(ctx.user_id) as session:
        await mirror.record_sent_envelope(session, user_id=ctx.user_id, account_id=client.account_id,
                                          envelope_id=envelope_id, status=status,
                                          email_subject=found.email_subject, request_id=request_id)
    draft = status == "created"
    text = (f"The server stopped while this was being done, but DocuSign has the envelope: "
            f"“{found.email_subject}” ({envelope_id}) is {'a saved draft' if draft else status}. "
            f"It was {'saved' if draft else 'sent'}; do not {'save' if draft else 'send'} it again.")
    payload = ok(text, envelope_id=envelope_id, status=status, recovered=True)
    return Recovered(payload, f"found in DocuSign after the interruption: envelope {envelope_id} ({status})",
                     envelope_id)
