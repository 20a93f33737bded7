"""Bulk sends: one operation, one row per recipient, counters updated as Connect reports progress."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at, one_of, updated_at, uuid_pk

BULK_RECIPIENT_STATUSES = ("queued", "sent", "delivered", "completed", "declined", "voided", "failed")


class BulkOperation(Base):
    __tablename__ = "bulk_operations"
    __table_args__ = (
        one_of("status", ("pending", "sending", "sent", "completed", "failed")),
        Index("ix_bulk_operations_user_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    batch_name: Mapped[str] = mapped_column(String(100), nullable=False)
    template_id: Mapped[str] = mapped_column(String(64), nullable=False)
    bulk_list_id: Mapped[str | None] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    total: Mapped[int] = mapped_column(Integer, nullable=False)
    queued: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    sent: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    delivered: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    completed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    declined: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    voided: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class BulkRecipient(Base):
    __tablename__ = "bulk_recipients"
    __table_args__ = (
        UniqueConstraint("operation_id", "row_number"),
        one_of("status", BULK_RECIPIENT_STATUSES),
        Index("ix_bulk_recipients_envelope_id", "envelope_id"),
        Index("ix_bulk_recipients_user_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    operation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("bulk_operations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    role_name: Mapped[str | None] = mapped_column(String(100))
    envelope_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = updated_at()
