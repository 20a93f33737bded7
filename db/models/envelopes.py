"""The mirror of DocuSign state, and the Connect deliveries that feed it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import (
    ENVELOPE_STATUSES,
    RECIPIENT_STATUSES,
    Base,
    created_at,
    one_of,
    updated_at,
    uuid_pk,
)

# A stored delivery's life: waiting (`pending`), done (`applied`, `duplicate`), or needing attention (`failed`:
# cannot be applied as it is; `parked`: out of retries; `unmatched`: not ours yet), or set aside (`discarded`).
WEBHOOK_EVENT_STATUSES = ("pending", "applied", "duplicate", "failed", "parked", "unmatched", "discarded")


class WebhookEvent(Base):
    """A Connect delivery exactly as received. `dedupe_key` makes a redelivery a no-op insert."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        one_of("status", WEBHOOK_EVENT_STATUSES),
        Index("ix_webhook_events_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_events_envelope_id", "envelope_id", "id"),
        Index("ix_webhook_events_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    event: Mapped[str | None] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(String(64))
    docusign_user_id: Mapped[str | None] = mapped_column(String(64))
    envelope_id: Mapped[str | None] = mapped_column(String(64))
    recipient_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="SET NULL"))
    generated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    raw_body: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    deliveries: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"), nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = created_at()
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Envelope(Base):
    __tablename__ = "envelopes"
    __table_args__ = (
        one_of("status", ENVELOPE_STATUSES),
        Index("ix_envelopes_user_id_status_changed_at", "user_id", text("status_changed_at DESC")),
        Index("ix_envelopes_user_id_status", "user_id", "status"),
        Index("ix_envelopes_request_id", "request_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    envelope_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    account_id: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    email_subject: Mapped[str | None] = mapped_column(Text)
    sender_email: Mapped[str | None] = mapped_column(String(320))
    request_id: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    declined_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    voided_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_event_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    synced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"), nullable=False)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class Recipient(Base):
    __tablename__ = "recipients"
    __table_args__ = (
        UniqueConstraint("envelope_pk", "recipient_id"),
        one_of("status", RECIPIENT_STATUSES),
        one_of("recipient_type", ("signer", "carbon_copy", "certified_delivery", "in_person_signer", "agent",
                                  "editor", "intermediary", "witness", "notary", "seal")),
        Index("ix_recipients_user_id_email", "user_id", "email"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    envelope_pk: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("envelopes.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    recipient_id: Mapped[str] = mapped_column(String(64), nullable=False)
    recipient_type: Mapped[str] = mapped_column(String(32), nullable=False, server_default="signer")
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    routing_order: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    client_user_id: Mapped[str | None] = mapped_column(String(100))
    signing_url: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    declined_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    declined_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = updated_at()


class MirrorSync(Base):
    """When the mirror last asked DocuSign for status changes, per DocuSign account and user (reconciliation).

    Keyed by DocuSign's ids, not ours: DocuSign's polling limit is theirs. Only the webhook role reads and
    writes it; it holds no personal data."""

    __tablename__ = "mirror_syncs"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    docusign_user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    polled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    from_date: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    envelopes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
