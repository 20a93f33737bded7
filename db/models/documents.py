"""Documents people upload or that belong to envelopes, and the cached AI analysis of them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at, one_of, updated_at, uuid_pk


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        one_of("processing_status", ("uploaded", "extracting", "ready", "failed")),
        Index("ix_documents_user_id_created_at", "user_id", text("created_at DESC")),
        Index("ix_documents_content_hash", "content_hash"),
        Index("ix_documents_envelope_pk", "envelope_pk"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    envelope_pk: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("envelopes.id", ondelete="SET NULL")
    )
    docusign_document_id: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False, server_default="application/pdf")
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    processing_status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="uploaded")
    page_count: Mapped[int | None] = mapped_column(Integer)
    text_content: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class AnalysisResult(Base):
    """Keyed so that the same question about the same bytes with the same model and prompt is asked once."""

    __tablename__ = "analysis_results"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "content_hash", "kind", "question_hash", "model", "prompt_version", name="uq_analysis_results_key"
        ),
        one_of("kind", ("summary", "key_terms", "risks", "question")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    question_hash: Mapped[str] = mapped_column(String(64), nullable=False, server_default="")
    model: Mapped[str] = mapped_column(String(100), nullable=False)
    prompt_version: Mapped[str] = mapped_column(String(32), nullable=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
