"""The envelope mirror: what Connect told us about each envelope, read and recorded on behalf of one user.

Every function here takes a session from `Database.user_session(user_id)`, so row-level security limits it to
that user's envelopes; another user's envelope simply does not exist. The Connect worker writes the mirror
through its own role (`runtime/webhooks/worker.py`); both apply the ordering rules of
`docusign_agent.envelope_rules`, so the agent and the worker agree on what "newer" means.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Envelope, Recipient
from docusign_agent.envelope_rules import ENVELOPE_STATUSES, RECIPIENT_STATUSES, status_advances

# NOTIFY channel: the worker re-examines `unmatched` events for an envelope as soon as the agent records it.
REMATCH_CHANNEL = "dsa_webhook_rematch"

RECIPIENT_TYPES = {
    "signer": "signer", "signers": "signer",
    "carboncopy": "carbon_copy", "carbon_copy": "carbon_copy", "carboncopies": "carbon_copy",
    "certifieddelivery": "certified_delivery", "certified_delivery": "certified_delivery",
    "certifieddeliveries": "certified_delivery",
    "inpersonsigner": "in_person_signer", "in_person_signer": "in_person_signer", "inpersonsigners": "in_person_signer",
    "agent": "agent", "agents": "agent", "editor": "editor", "editors": "editor",
    "intermediary": "intermediary", "intermediaries": "intermediary", "witness": "witness", "witnesses": "witness",
    "notary": "notary", "notaries": "notary", "seal": "seal", "seals": "seal",
}


def recipient_type(name: str | None) -> str:
    """DocuSign's recipient type names (signer, carboncopy, carbonCopies...) as the mirror stores them."""
    return RECIPIENT_TYPES.get((name or "signer").replace("-", "").lower().replace(" ", ""), "signer")


@dataclass
class MirrorRecipient:
    recipient_id: str
    recipient_type: str
    name: str | None
    email: str | None
    routing_order: int
    status: str
    client_user_id: str | None = None
    sent_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    signed_at: dt.datetime | None = None
    declined_at: dt.datetime | None = None
    declined_reason: str | None = None
    status_changed_at: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass
class MirrorEnvelope:
    envelope_id: str
    account_id: str
    status: str
    user_id: uuid.UUID
    email_subject: str | None = None
    sender_email: str | None = None
    request_id: str | None = None
    sent_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    declined_at: dt.datetime | None = None
    voided_at: dt.datetime | None = None
    voided_reason: str | None = None
    status_changed_at: dt.datetime | None = None
    last_event_at: dt.datetime | None = None  # generatedDateTime of the newest Connect event applied
    synced_at: dt.datetime | None = None  # when we last wrote this row from DocuSign's word (event or API)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    recipients: list[MirrorRecipient] = field(default_factory=list)

    @property
    def age_seconds(self) -> float | None:
        """Seconds since the mirror last heard about this envelope (event or record), for "as of N s ago"."""
        moment = self.last_event_at or self.synced_at
        return (dt.datetime.now(dt.UTC) - moment).total_seconds() if moment else None

    def to_json(self, *, with_recipients: bool = True) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "recipients"}
        data["user_id"] = str(self.user_id)
        out = _jsonable(data)
        if with_recipients:
            out["recipients"] = [r.to_json() for r in self.recipients]
        return out


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in data.items()}


def _recipient(row: Recipient) -> MirrorRecipient:
    return MirrorRecipient(
        recipient_id=row.recipient_id, recipient_type=row.recipient_type, name=row.name, email=row.email,
        routing_order=row.routing_order, status=row.status, client_user_id=row.client_user_id, sent_at=row.sent_at,
        delivered_at=row.delivered_at, signed_at=row.signed_at, declined_at=row.declined_at,
        declined_reason=row.declined_reason, status_changed_at=row.status_changed_at,
    )


def _envelope(row: Envelope, recipients: Iterable[Recipient]) -> MirrorEnvelope:
    ordered = sorted(recipients, key=lambda r: (r.routing_order, _numeric(r.recipient_id)))
    return MirrorEnvelope(
        envelope_id=row.envelope_id, account_id=row.account_id, status=row.status, user_id=row.user_id,
        email_subject=row.email_subject, sender_email=row.sender_email, request_id=row.request_id,
        sent_at=row.sent_at, delivered_at=row.delivered_at, completed_at=row.completed_at,
        declined_at=row.declined_at, voided_at=row.voided_at, voided_reason=row.voided_reason,
        status_changed_at=row.status_changed_at, last_event_at=row.last_event_at, synced_at=row.synced_at,
        created_at=row.created_at, updated_at=row.updated_at, recipients=[_recipient(r) for r in ordered],
    )


def _numeric(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (1 << 30, value)


async def get_envelope(session: AsyncSession, envelope_id: str) -> MirrorEnvelope | None:
    """The mirrored envelope with its recipients, or None (unknown, or another user's)."""
    row = (await session.execute(select(Envelope).where(Envelope.envelope_id == envelope_id))).scalar_one_or_none()
    if row is None:
        return None
    recipients = (await session.execute(select(Recipient).where(Recipient.envelope_pk == row.id))).scalars().all()
    return _envelope(row, recipients)


async def list_envelopes(session: AsyncSession, *, statuses: Sequence[str] | None = None, limit: int = 50,
                         offset: int = 0) -> tuple[list[MirrorEnvelope], int]:
    """A page of the user's envelopes, most recently changed first, and how many match in total."""
    where = [Envelope.status.in_(list(statuses))] if statuses else []
    total = (await session.execute(select(func.count()).select_from(Envelope).where(*where))).scalar_one()
    rows = (await session.execute(
        select(Envelope).where(*where)
        .order_by(func.coalesce(Envelope.status_changed_at, Envelope.created_at).desc(), Envelope.envelope_id)
        .limit(limit).offset(offset)
    )).scalars().all()
    if not rows:
        return [], total
    by_pk: dict[uuid.UUID, list[Recipient]] = {row.id: [] for row in rows}
    recipients = (await session.execute(select(Recipient).where(Recipient.envelope_pk.in_(list(by_pk))))).scalars()
    for r in recipients:
        by_pk[r.envelope_pk].append(r)
    return [_envelope(row, by_pk[row.id]) for row in rows], total


def _initial_recipient_status(envelope_status: str, routing_order: int, first_order: int) -> str:
    if envelope_status in ("sent", "delivered") and routing_order <= first_order:
        return "sent"
    if envelope_status == "completed":
        return "completed"
    return "created"


async def record_sent_envelope(
    session: AsyncSession,
    user_id: uuid.UUID | str,
    *,
    envelope_id: str,
    account_id: str,
    status: str = "sent",
    email_subject: str | None = None,
    sender_email: str | None = None,
    request_id: str | None = None,
    recipients: Sequence[Mapping[str, Any]] = (),
    sent_at: dt.datetime | None = None,
    status_changed_at: dt.datetime | None = None,
) -> MirrorEnvelope:
    """Record an envelope the agent just created or sent, so Connect events about it match this user.

    `recipients` take the tools' shape (`recipientId`, `type`, `name`, `email`, `routingOrder`, `embedded`,
    optional `status`) or the mirror's snake_case names. If Connect got here first the row is kept: only missing
    fields are filled in and the status only moves forward. Events parked as `unmatched` for this envelope are
    re-queued when the transaction commits.

    `status_changed_at` is DocuSign's time for the status (the create response's `statusDateTime`), if known.
    Our own clock is never used for it: any Connect event about the envelope must be able to supersede this
    record, whatever the skew between our clock and DocuSign's.
    """
    user_id = uuid.UUID(str(user_id))
    status = (status or "sent").lower()
    if status not in ENVELOPE_STATUSES:
        raise ValueError(f"status: {status!r} is not a DocuSign envelope status")
    now = dt.datetime.now(dt.UTC)
    moment = sent_at or (now if status != "created" else None)
    inserted = (await session.execute(
        insert(Envelope).values(
            user_id=user_id, envelope_id=envelope_id, account_id=account_id, status=status,
            email_subject=email_subject, sender_email=sender_email, request_id=request_id, sent_at=moment,
            status_changed_at=status_changed_at, synced_at=now,
        ).on_conflict_do_nothing(index_elements=[Envelope.envelope_id]).returning(Envelope.id)
    )).scalar_one_or_none()
    if inserted is not None:
        envelope_pk = inserted
    else:  # Connect (or an earlier record) got here first: fill in what is missing, move the status forward only
        row = (await session.execute(
            select(Envelope).where(Envelope.envelope_id == envelope_id).with_for_update())).scalar_one_or_none()
        if row is None:  # the id is taken, by a row this user's session cannot see
            raise ValueError(f"envelope_id: {envelope_id} is recorded for another user")
        envelope_pk = row.id
        row.request_id = row.request_id or request_id
        row.email_subject = row.email_subject or email_subject
        row.sender_email = row.sender_email or sender_email
        row.sent_at = row.sent_at or moment
        if status_advances(row.status, status):
            row.status = status
            row.status_changed_at = status_changed_at or row.status_changed_at
        row.synced_at = now
        await session.flush()
    orders = [int(r.get("routingOrder") or r.get("routing_order") or 1) for r in recipients]
    first = min(orders, default=1)
    for r, order in zip(recipients, orders, strict=True):
        rid = str(r.get("recipientId") or r.get("recipient_id") or "").strip()
        if not rid:
            raise ValueError("recipients: every recipient needs a recipientId")
        r_status = str(r.get("status") or _initial_recipient_status(status, order, first)).lower()
        if r_status not in RECIPIENT_STATUSES:
            raise ValueError(f"recipients: {r_status!r} is not a DocuSign recipient status")
        client_user_id = r.get("clientUserId") or r.get("client_user_id")
        if client_user_id is None and r.get("embedded"):
            client_user_id = r.get("email")
        await session.execute(
            insert(Recipient).values(
                envelope_pk=envelope_pk, user_id=user_id, recipient_id=rid,
                recipient_type=recipient_type(r.get("type") or r.get("recipientType") or r.get("recipient_type")),
                name=r.get("name"), email=r.get("email"), routing_order=order, status=r_status,
                client_user_id=client_user_id, sent_at=moment if r_status == "sent" else None,
            ).on_conflict_do_nothing(index_elements=[Recipient.envelope_pk, Recipient.recipient_id])
        )
    await session.execute(text("SELECT pg_notify(:channel, :envelope_id)"),
                          {"channel": REMATCH_CHANNEL, "envelope_id": envelope_id})
    found = await get_envelope(session, envelope_id)
    assert found is not None
    return found
