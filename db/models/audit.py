"""The audit trail. Append-only: a row is written before DocuSign is called and completed once after."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, one_of

# `interrupted`: the process running the call died; recovery answered the call with what is known.
AUDIT_STATUSES = ("started", "awaiting_approval", "succeeded", "failed", "rejected", "interrupted")


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        one_of("status", AUDIT_STATUSES),
        one_of("actor", ("user", "agent", "webhook", "system")),
        Index("ix_audit_log_user_id_started_at", "user_id", text("started_at DESC")),
        Index("ix_audit_log_envelope_id", "envelope_id"),
        Index("ix_audit_log_started_thread", "thread_id", postgresql_where=text("status = 'started'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    actor: Mapped[str] = mapped_column(String(16), nullable=False)
    operation: Mapped[str] = mapped_column(String(100), nullable=False)
    envelope_id: Mapped[str | None] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(64))
    tool_call_id: Mapped[str | None] = mapped_column(String(100))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_code: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)
    docusign_trace_token: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()"), nullable=False
    )
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
