"""Envelope tools: list, status (mirror first), send a draft, remind, correct, void."""

from __future__ import annotations

import datetime as dt
from typing import Any

from docusign_esign import Recipients, Signer

from db import mirror
from docusign_agent.envelope_rules import is_terminal
from tools.base import ToolSpec
from tools.common import ago, docusign, holding_up, recipient_rows, who
from tools.context import ToolContext
from tools.results import ToolFailure, ok
from tools.schemas import CorrectRecipientArgs, EnvelopeRef, ListEnvelopesArgs, RemindArgs, VoidArgs

# The mirror answers when Connect is feeding it (an event arrived within DocuSign's polling interval of 15
# minutes) or when the envelope is in a final state; otherwise DocuSign is asked.
MIRROR_FRESH_SECONDS = 900


def _iso(value: dt.date | None, *, end: bool = False) -> str | None:
    if value is None:
        return None
    moment = dt.datetime.combine(value, dt.time.max if end else dt.time.min, tzinfo=dt.UTC)
    return moment.isoformat()


def envelope_row(env: Any) -> dict[str, Any]:
    recipients = recipient_rows(getattr(env, "recipients", None))
    row = {
        "envelopeId": env.envelope_id, "status": env.status, "emailSubject": env.email_subject,
        "sentDateTime": env.sent_date_time, "statusChangedDateTime": env.status_changed_date_time,
        "completedDateTime": env.completed_date_time,
    }
    if recipients:
        row["recipients"] = recipients
    return row


async def list_envelopes(ctx: ToolContext, args: ListEnvelopesArgs) -> dict[str, Any]:
    client = await docusign(ctx)
    from_date = args.from_date or (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).date()
    result = (await client.list_envelopes(
        from_date=_iso(from_date), to_date=_iso(args.to_date, end=True), status=args.status,
        search_text=args.search_text, count=str(args.count) if not args.recipient else None,
        start_position=str(args.start_position) if not args.recipient else None, include="recipients",
    )).value
    rows = [envelope_row(e) for e in (result.envelopes or [])]
    if args.recipient:
        needle = args.recipient.lower()
        rows = [r for r in rows if any(needle in (p["email"] or "").lower() or needle in (p["name"] or "").lower()
                                       for p in r.get("recipients", []))]
        rows = rows[args.start_position: args.start_position + args.count]
    total = int(result.total_set_size or len(rows)) if not args.recipient else len(rows)
    what = f"{args.status} " if args.status else ""
    if not rows:
        summary = f"You have no {what}envelopes since {from_date.isoformat()}."
    else:
        summary = f"Found {len(rows)} {what}envelope{'s' if len(rows) != 1 else ''} since {from_date.isoformat()}" + (
            f" (showing {len(rows)} of {total})." if total > len(rows) else ".")
    return ok(summary, envelopes=rows, total=total, start_position=args.start_position)


async def _from_mirror(ctx: ToolContext, envelope_id: str) -> dict[str, Any] | None:
    async with ctx.database.user_session(ctx.user_id) as session:
        found = await mirror.get_envelope(session, envelope_id)
    if found is None:
        return None
    updated = found.last_event_at or found.synced_at
    fed = found.last_event_at is not None and found.age_seconds is not None and found.age_seconds <= MIRROR_FRESH_SECONDS
    if not is_terminal(found.status) and not fed:
        return None
    return {
        "envelopeId": found.envelope_id, "status": found.status, "emailSubject": found.email_subject,
        "recipients": [
            {"recipientId": r.recipient_id, "type": r.recipient_type, "name": r.name, "email": r.email,
             "status": r.status, "routingOrder": r.routing_order, "signedDateTime": r.signed_at,
             "embedded": bool(r.client_user_id)}
            for r in sorted(found.recipients, key=lambda r: (r.routing_order, r.recipient_id))
        ],
        "source": "mirror", "updated": ago(updated), "updatedAt": updated,
    }


async def get_envelope_status(ctx: ToolContext, args: EnvelopeRef) -> dict[str, Any]:
    view = await _from_mirror(ctx, args.envelope_id)
    if view is None:
        client = await docusign(ctx)
        env = (await client.get_envelope(args.envelope_id)).value
        recipients = (await client.list_recipients(args.envelope_id)).value
        view = {**envelope_row(env), "recipients": recipient_rows(recipients), "source": "docusign",
                "updated": "just now"}
    waiting = holding_up(view["status"], view["recipients"])
    subject = view.get("emailSubject") or "(no subject)"
    summary = f"Envelope “{subject}” is {view['status']}."
    if waiting:
        summary += " Waiting on " + ", ".join(who(r) for r in waiting) + "."
    elif view["status"] == "completed":
        summary += " Everyone has signed."
    declined = [r for r in view["recipients"] if (r.get("status") or "") == "declined"]
    if declined:
        summary += " Declined by " + ", ".join(who(r) for r in declined) + "."
    source = "the webhook mirror" if view["source"] == "mirror" else "DocuSign"
    summary += f" (Status from {source}, updated {view['updated']}.)"
    return ok(summary, envelope=view, envelope_id=args.envelope_id, holding_up=waiting)


async def send_draft(ctx: ToolContext, args: EnvelopeRef) -> dict[str, Any]:
    client = await docusign(ctx)
    sent = await client.send_draft(args.envelope_id)
    return ok(f"The draft envelope {args.envelope_id} has been sent to its recipients.", envelope_id=args.envelope_id,
              _trace_token=sent.trace_token)


async def remind_recipients(ctx: ToolContext, args: RemindArgs) -> dict[str, Any]:
    client = await docusign(ctx)
    env = (await client.get_envelope(args.envelope_id)).value
    if is_terminal(env.status):
        raise ToolFailure("envelope_closed", f"The envelope is already {env.status}, so there is nobody to remind.")
    resent = await client.resend_envelope(args.envelope_id)
    waiting = holding_up(env.status, recipient_rows((await client.list_recipients(args.envelope_id)).value))
    names = ", ".join(who(r) for r in waiting) or "the open recipients"
    return ok(f"Sent a reminder to {names}.", envelope_id=args.envelope_id, reminded=waiting,
              _trace_token=resent.trace_token)


async def _find_recipient(client: Any, envelope_id: str, ref: str) -> Any:
    recipients = (await client.list_recipients(envelope_id)).value
    for signer in recipients.signers or []:
        if signer.recipient_id == ref or (signer.email or "").lower() == ref.lower():
            return signer
    raise ToolFailure("unknown_recipient", f"recipient: nobody with id or email {ref!r} signs envelope {envelope_id}.",
                      field="recipient")


async def correct_recipient(ctx: ToolContext, args: CorrectRecipientArgs) -> dict[str, Any]:
    client = await docusign(ctx)
    current = await _find_recipient(client, args.envelope_id, args.recipient)
    change = Signer(recipient_id=current.recipient_id, name=args.name or current.name,
                    email=str(args.email) if args.email else current.email)
    updated = await client.update_recipients(args.envelope_id, Recipients(signers=[change]), resend=True)
    return ok(f"Recipient {current.recipient_id} is now {change.name} ({change.email}); DocuSign re-sent the "
              "envelope to them.", envelope_id=args.envelope_id, _trace_token=updated.trace_token)


async def void_envelope(ctx: ToolContext, args: VoidArgs) -> dict[str, Any]:
    client = await docusign(ctx)
    voided = await client.void_envelope(args.envelope_id, args.reason)
    return ok(f"The envelope {args.envelope_id} has been voided (reason: {args.reason}).",
              envelope_id=args.envelope_id, _trace_token=voided.trace_token)


SPECS = [
    ToolSpec("list_envelopes", "List the user's envelopes, filtered by status, date range, recipient or text, paged.",
             ListEnvelopesArgs, list_envelopes, docusign_call="GET envelopes",
             effect="read"),
    ToolSpec("get_envelope_status", "Status of one envelope with its recipients and who it is waiting on.",
             EnvelopeRef, get_envelope_status, docusign_call="GET envelopes/{id}, GET envelopes/{id}/recipients",
             effect="read"),
    ToolSpec("send_draft", "Send an envelope that was saved as a draft.", EnvelopeRef, send_draft,
             approval="always", docusign_call="PUT envelopes/{id} status=sent",
             effect="write", idempotent=True),
    ToolSpec("remind_recipients", "Remind the recipients who have not signed yet (DocuSign resend).", RemindArgs,
             remind_recipients, approval="reminder", docusign_call="PUT envelopes/{id}?resend_envelope=true",
             effect="write"),
    ToolSpec("correct_recipient", "Correct a recipient's name or email on an envelope that is not completed.",
             CorrectRecipientArgs, correct_recipient, approval="always", docusign_call="PUT envelopes/{id}/recipients",
             effect="destructive"),
    ToolSpec("void_envelope", "Void an envelope so nobody can sign it any more; needs a reason.", VoidArgs,
             void_envelope, approval="always", docusign_call="PUT envelopes/{id} status=voided",
             effect="destructive", idempotent=True),
]
