"""Long-term memory (LangGraph's Store): items under namespaces, each user's apart from every other's.

A namespace is a tuple of labels without dots, kept as one dotted `prefix`, so namespace prefixes are text
prefixes. The owner column is part of the key: two users' `("memories", "contacts")` are different rows, and
RLS shows each only their own. Items may expire (`expires_at`, refreshed on read when `ttl_minutes` is set).
When an embeddings model is configured, each indexed text field of an item has a vector in `store_vectors`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKeyConstraint, Index, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at, updated_at


class StoreItem(Base):
    __tablename__ = "store_items"
    __table_args__ = (
        ForeignKeyConstraint(["user_id"], ["profiles.id"], ondelete="CASCADE"),
        Index("ix_store_items_expires_at", "expires_at", postgresql_where=text("expires_at IS NOT NULL")),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    prefix: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ttl_minutes: Mapped[float | None] = mapped_column(Float)


class StoreVector(Base):
    __tablename__ = "store_vectors"
    __table_args__ = (
        ForeignKeyConstraint(["user_id", "prefix", "key"], ["store_items.user_id", "store_items.prefix",
                                                            "store_items.key"], ondelete="CASCADE"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    prefix: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    field_name: Mapped[str] = mapped_column(Text, primary_key=True)
    embedding: Mapped[list[float]] = mapped_column(ARRAY(Float), nullable=False)
