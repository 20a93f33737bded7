"""Approvals: a person's decision on one tool call, kept where only the server writes it.

The tool node used to trust a list of approved call ids in the graph's state, which a client can write through
`POST /threads/{id}/state` or a run's `command`. A decision now lives here instead, bound to the user, the
thread, the tool call id and the digest of the exact arguments decided (after edits); the tool node consumes
a matching approved row once, atomically, before it acts (`db/approvals.py`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at, one_of, uuid_pk

# NULL while the call waits for a person.
APPROVAL_DECISIONS = ("approved", "rejected")
# Where the call was held: a chat's approval gate, an MCP client's held call, or the REST API.
APPROVAL_SOURCES = ("chat", "mcp", "api")


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        one_of("decision", APPROVAL_DECISIONS),
        one_of("source", APPROVAL_SOURCES),
        # One row per call of a thread; NULL threads (calls held for MCP clients) are not distinct either.
        UniqueConstraint("user_id", "thread_id", "tool_call_id", postgresql_nulls_not_distinct=True),
        Index("ix_approvals_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    thread_id: Mapped[str | None] = mapped_column(String(64))
    tool_call_id: Mapped[str] = mapped_column(String(100), nullable=False)
    tool_name: Mapped[str] = mapped_column(String(100), nullable=False)
    args: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    args_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    decision: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8), nullable=False)
    created_at: Mapped[dt.datetime] = created_at()
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    consumed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
