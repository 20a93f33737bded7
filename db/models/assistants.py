"""Assistants a user made over a graph: their own config and context, versioned.

The graphs' default assistants (`agent`, ...) are not rows: they are the same for everyone and never change
(`runtime/runs/graphs.py`). A user's assistant is a row whose current content is copied from one of its
`assistant_versions`; patching adds a version, `/latest` points the assistant back at an older one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at, updated_at, uuid_pk


class AssistantContent:
    """What a version fixes, and what the assistant's current content is copied from."""

    graph_id: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, nullable=False, server_default="{}")


class Assistant(AssistantContent, Base):
    __tablename__ = "assistants"
    __table_args__ = (
        Index("ix_assistants_user_id_updated_at", "user_id", "updated_at"),
        Index("ix_assistants_metadata", "metadata", postgresql_using="gin"),
    )

    assistant_id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class AssistantVersion(AssistantContent, Base):
    __tablename__ = "assistant_versions"
    __table_args__ = (
        ForeignKeyConstraint(["assistant_id"], ["assistants.assistant_id"], ondelete="CASCADE"),
    )

    assistant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[dt.datetime] = created_at()
