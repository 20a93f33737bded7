"""Connect JSON SIM bodies: signature check, the dedupe key, and the normalised view the worker applies.

Pure functions, no I/O: the receiver calls `verify_signature` and `classify` on the request path, the worker
calls `parse_event` on stored rows.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from db.mirror import recipient_type
from docusign_agent.docusign_time import parse_time_or_none as parse_time
from docusign_agent.envelope_rules import ENVELOPE_STATUSES, RECIPIENT_STATUSES, REQUEST_ID_FIELD

SIGNATURE_HEADER_PREFIX = "x-docusign-signature-"
COLUMN_LIMIT = 64  # webhook_events' short text columns

# Event names that imply a status when a body carries no envelopeSummary status.
ENVELOPE_EVENT_STATUS = {
    "envelope-sent": "sent", "envelope-delivered": "delivered", "envelope-completed": "completed",
    "envelope-declined": "declined", "envelope-voided": "voided", "envelope-created": "created",
    "envelope-deleted": "deleted",
}
RECIPIENT_EVENT_STATUS = {
    "recipient-sent": "sent", "recipient-delivered": "delivered", "recipient-completed": "completed",
    "recipient-declined": "declined", "recipient-autoresponded": "autoresponded",
}
RECIPIENT_GROUPS = ("signers", "carbonCopies", "certifiedDeliveries", "inPersonSigners", "agents", "editors",
                    "intermediaries", "witnesses", "notaries", "seals")


class EventError(ValueError):
    """The stored body cannot be applied as it is (the message is kept on the row)."""


def signing_keys(keys: Iterable[str]) -> list[bytes]:
    return [k.encode("utf-8") for k in keys if k]


def verify_signature(body: bytes, headers: Iterable[tuple[bytes, bytes]], keys: list[bytes]) -> bool | None:
    """True if any X-DocuSign-Signature-N header matches any key; False if none does; None if there is none.

    Each key's HMAC is computed once; every comparison is constant-time.
    """
    offered = [value.strip() for name, value in headers
               if name.lower().startswith(SIGNATURE_HEADER_PREFIX.encode())]
    if not offered:
        return None
    expected = [base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()) for key in keys]
    matched = False
    for value in offered:
        for digest in expected:
            # No early exit: the time taken does not depend on which header or key matched.
            matched |= hmac.compare_digest(value, digest)
    return matched


def _s(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))


@dataclass(frozen=True)
class Classified:
    """What the receiver stores for one body."""

    dedupe_key: str
    ok: bool  # a Connect event we can queue; otherwise stored as failed with `error`
    error: str | None = None
    event: str | None = None
    account_id: str | None = None
    docusign_user_id: str | None = None
    envelope_id: str | None = None
    recipient_id: str | None = None
    generated_at: dt.datetime | None = None


def _short(value: str) -> str | None:
    return value[:COLUMN_LIMIT] or None


def classify(body: bytes) -> Classified:
    """Parse just enough to dedupe and index the delivery. Never raises."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return Classified("raw:" + hashlib.sha256(body).hexdigest(), False, f"malformed JSON: {exc}")
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        return Classified("raw:" + hashlib.sha256(body).hexdigest(), False,
                          "not a Connect JSON SIM event: the body has no 'data' object")
    data = doc["data"]
    summary = data.get("envelopeSummary") if isinstance(data.get("envelopeSummary"), dict) else {}
    event = _s(doc.get("event")).lower()
    envelope_id = _s(data.get("envelopeId")) or _s(summary.get("envelopeId"))
    recipient_id = _s(data.get("recipientId"))
    generated = _s(doc.get("generatedDateTime"))
    changed = _s(summary.get("statusChangedDateTime"))
    common = {"event": _short(event), "account_id": _short(_s(data.get("accountId"))),
              "docusign_user_id": _short(_s(data.get("userId"))), "envelope_id": _short(envelope_id),
              "recipient_id": _short(recipient_id), "generated_at": parse_time(generated)}
    if not envelope_id:
        return Classified("raw:" + hashlib.sha256(body).hexdigest(), False,
                          "not an envelope event: data.envelopeId is missing", **common)
    if not generated and not changed:
        # Nothing identifies this occurrence; only a byte-identical redelivery is a duplicate.
        return Classified("raw:" + hashlib.sha256(body).hexdigest(), True, **common)
    key = hashlib.sha256("\x1f".join((event, envelope_id, recipient_id, generated, changed)).encode()).hexdigest()
    return Classified(key, True, **common)


@dataclass
class RecipientState:
    recipient_id: str
    recipient_type: str
    status: str
    name: str | None = None
    email: str | None = None
    routing_order: int = 1
    client_user_id: str | None = None
    sent_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    signed_at: dt.datetime | None = None
    declined_at: dt.datetime | None = None
    declined_reason: str | None = None

    @property
    def changed_at(self) -> dt.datetime | None:
        moments = [m for m in (self.sent_at, self.delivered_at, self.signed_at, self.declined_at) if m]
        return max(moments) if moments else None


@dataclass
class ParsedEvent:
    event: str
    envelope_id: str
    account_id: str
    docusign_user_id: str | None
    recipient_id: str | None
    generated_at: dt.datetime | None
    status: str | None  # envelope status after this event (None: the event does not say)
    status_changed_at: dt.datetime | None
    email_subject: str | None = None
    sender_email: str | None = None
    request_id: str | None = None
    sent_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    declined_at: dt.datetime | None = None
    voided_at: dt.datetime | None = None
    voided_reason: str | None = None
    recipients: list[RecipientState] = field(default_factory=list)
    has_summary: bool = False


def _recipient_states(block: Mapping[str, Any]) -> list[RecipientState]:
    out: list[RecipientState] = []
    for group in RECIPIENT_GROUPS:
        for item in block.get(group) or []:
            if not isinstance(item, dict) or not _s(item.get("recipientId")):
                continue
            status = _s(item.get("status")).lower()
            if status not in RECIPIENT_STATUSES:
                raise EventError(f"recipient {_s(item.get('recipientId'))}: unknown status {status!r}")
            try:
                order = int(_s(item.get("routingOrder")) or 1)
            except ValueError:
                order = 1
            out.append(RecipientState(
                recipient_id=_s(item.get("recipientId"))[:64],
                recipient_type=recipient_type(_s(item.get("recipientType")) or group),
                status=status, name=_s(item.get("name"))[:200] or None, email=_s(item.get("email"))[:320] or None,
                routing_order=order, client_user_id=_s(item.get("clientUserId"))[:100] or None,
                sent_at=parse_time(item.get("sentDateTime")), delivered_at=parse_time(item.get("deliveredDateTime")),
                signed_at=parse_time(item.get("signedDateTime")), declined_at=parse_time(item.get("declinedDateTime")),
                declined_reason=_s(item.get("declinedReason")) or None,
            ))
    return out


def _request_id(summary: Mapping[str, Any]) -> str | None:
    fields = (summary.get("customFields") or {}).get("textCustomFields") or []
    for f in fields:
        if isinstance(f, dict) and _s(f.get("name")) == REQUEST_ID_FIELD and _s(f.get("value")):
            return _s(f.get("value"))[:64]
    return None


def parse_event(raw: str | bytes) -> ParsedEvent:
    """The stored body as the worker applies it; EventError when it cannot be applied as it is."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EventError(f"malformed JSON: {exc}") from None
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise EventError("not a Connect JSON SIM event: the body has no 'data' object")
    summary = data.get("envelopeSummary") if isinstance(data.get("envelopeSummary"), dict) else {}
    event = _s(doc.get("event")).lower()
    envelope_id = _s(data.get("envelopeId")) or _s(summary.get("envelopeId"))
    if not envelope_id:
        raise EventError("not an envelope event: data.envelopeId is missing")
    account_id = _s(data.get("accountId")) or _s((summary.get("sender") or {}).get("accountId"))
    status = _s(summary.get("status")).lower() or ENVELOPE_EVENT_STATUS.get(event)
    if status and status not in ENVELOPE_STATUSES:
        raise EventError(f"unknown envelope status {status!r}")
    generated = parse_time(doc.get("generatedDateTime"))
    sender = summary.get("sender") if isinstance(summary.get("sender"), dict) else {}
    parsed = ParsedEvent(
        event=event, envelope_id=envelope_id[:64], account_id=account_id[:64],
        docusign_user_id=_s(data.get("userId"))[:64] or _s(sender.get("userId"))[:64] or None,
        recipient_id=_s(data.get("recipientId"))[:64] or None, generated_at=generated, status=status or None,
        status_changed_at=parse_time(summary.get("statusChangedDateTime")) or (generated if status else None),
        email_subject=_s(summary.get("emailSubject")) or None, sender_email=_s(sender.get("email"))[:320] or None,
        request_id=_request_id(summary), sent_at=parse_time(summary.get("sentDateTime")),
        delivered_at=parse_time(summary.get("deliveredDateTime")),
        completed_at=parse_time(summary.get("completedDateTime")),
        declined_at=parse_time(summary.get("declinedDateTime")), voided_at=parse_time(summary.get("voidedDateTime")),
        voided_reason=_s(summary.get("voidedReason")) or None, has_summary=bool(summary.get("status")),
    )
    if isinstance(summary.get("recipients"), dict):
        parsed.recipients = _recipient_states(summary["recipients"])
    elif parsed.recipient_id and event in RECIPIENT_EVENT_STATUS:
        # No recipients block: the event itself says what happened to its recipient, at its generation time.
        state = RecipientState(recipient_id=parsed.recipient_id, recipient_type="signer",
                               status=RECIPIENT_EVENT_STATUS[event])
        moment = generated
        if state.status == "sent":
            state.sent_at = moment
        elif state.status == "delivered":
            state.delivered_at = moment
        elif state.status == "completed":
            state.signed_at = moment
        elif state.status == "declined":
            state.declined_at = moment
        parsed.recipients = [state]
    return parsed


def with_fetched_state(ev: ParsedEvent, envelope: Mapping[str, Any]) -> ParsedEvent:
    """`ev` completed with the envelope DocuSign returned for it (REST JSON, recipients and custom fields
    included), parsed exactly as if Connect had delivered that state with the event."""
    if not envelope.get("status"):
        raise EventError(f"DocuSign returned no status for envelope {ev.envelope_id}")
    generated = ev.generated_at.isoformat() if ev.generated_at else None
    return parse_event(sim_body(ev.event, generated, ev.account_id, ev.docusign_user_id, ev.envelope_id,
                                envelope, recipient_id=ev.recipient_id or ""))


RECONCILED_EVENT = "envelope-reconciled"


def reconciled_body(envelope: Mapping[str, Any], account_id: str, docusign_user_id: str) -> bytes:
    """An envelope's state as DocuSign's listStatusChanges returned it (REST JSON, recipients and custom
    fields included), as the JSON SIM body the worker applies. Its time is the envelope's own last change, so
    the same state read by two syncs is one event (the dedupe key), and an older state never wins."""
    changed = envelope.get("lastModifiedDateTime") or envelope.get("statusChangedDateTime")
    return sim_body(RECONCILED_EVENT, changed, account_id, docusign_user_id,
                    str(envelope.get("envelopeId") or ""), envelope)


def sim_body(event: str | None, generated: str | None, account_id: str | None, docusign_user_id: str | None,
             envelope_id: str, summary: Mapping[str, Any], *, recipient_id: str = "") -> bytes:
    """The one JSON SIM shape the product writes itself (an event completed by asking DocuSign, a state
    found by reconciliation), as Connect would have delivered it."""
    return orjson.dumps({"event": event, "generatedDateTime": generated,
                         "data": {"accountId": account_id, "userId": docusign_user_id, "envelopeId": envelope_id,
                                  "recipientId": recipient_id, "envelopeSummary": dict(summary)}})
