"""Conversations (LangGraph threads) and the runs executed on them.

The graph's state itself lives in the LangGraph checkpoint tables; these rows are what the API needs to answer
quickly and safely: who owns a thread (RLS), its status and latest values for thread lists, and each run's
lifecycle, including which server process executes it and when that process last proved it was alive.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at, one_of, updated_at, uuid_pk

THREAD_STATUSES = ("idle", "busy", "interrupted", "error")
# A run waits (`pending`), executes (`running`), then ends in one of the others; a thread has at most one
# running run, and runs queued behind it stay pending. The SQL functions of migration 0003 use the same names.
ACTIVE_RUN_STATUSES = ("pending", "running")
FINISHED_RUN_STATUSES = ("success", "error", "timeout", "interrupted")
RUN_STATUSES = ACTIVE_RUN_STATUSES + FINISHED_RUN_STATUSES
MULTITASK_STRATEGIES = ("reject", "interrupt", "rollback", "enqueue")
CANCEL_ACTIONS = ("interrupt", "rollback")


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (
        one_of("status", THREAD_STATUSES),
        Index("ix_threads_user_id_updated_at", "user_id", text("updated_at DESC")),
        Index("ix_threads_metadata", "metadata", postgresql_using="gin"),
    )

    thread_id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, nullable=False, server_default="{}")
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="idle")
    values: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    interrupts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        one_of("status", RUN_STATUSES),
        one_of("multitask_strategy", MULTITASK_STRATEGIES),
        one_of("cancel_requested", CANCEL_ACTIONS),
        Index("ix_runs_thread_id_created_at", "thread_id", "created_at"),
        Index("ix_runs_user_id", "user_id"),
        Index("ix_runs_pending", "run_after", "created_at", postgresql_where=text("status = 'pending'")),
        Index("ix_runs_running", "heartbeat_at", postgresql_where=text("status = 'running'")),
    )

    run_id: Mapped[uuid.UUID] = uuid_pk()
    thread_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("threads.thread_id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    assistant_id: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, nullable=False, server_default="{}")
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    multitask_strategy: Mapped[str] = mapped_column(String(16), nullable=False, server_default="enqueue")
    cancel_requested: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    worker_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    run_after: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                   server_default=text("now()"))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
