"""Crons: runs a user scheduled to happen again and again (LangGraph's `/runs/crons`).

A cron holds the run it makes (`payload`, the body of a run request) and when it fires next. It belongs to
one user (forced RLS like threads); a cron on a thread goes with the thread. The run workers fire due crons
through the definer functions of migration 0010, so each time of a schedule makes exactly one run however many
processes fire (`runtime/runs/cron_scheduler.py` says how).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at, one_of, updated_at, uuid_pk

# What happens to the thread a cron without a thread runs on, once the run is over.
ON_RUN_COMPLETED = ("delete", "keep")


class Cron(Base):
    __tablename__ = "crons"
    __table_args__ = (
        one_of("on_run_completed", ON_RUN_COMPLETED),
        Index("ix_crons_due", "next_run_date", postgresql_where=text("enabled")),
        Index("ix_crons_user_id_created_at", "user_id", "created_at"),
        Index("ix_crons_thread_id", "thread_id"),
    )

    cron_id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    assistant_id: Mapped[str] = mapped_column(String(100), nullable=False)
    thread_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("threads.thread_id", ondelete="CASCADE")
    )
    schedule: Mapped[str] = mapped_column(Text, nullable=False)
    timezone: Mapped[str | None] = mapped_column(String(64))
    end_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    on_run_completed: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, nullable=False, server_default="{}")
    next_run_date: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # The time being fired, from the claim until its run exists (a claimant that died leaves it for another).
    pending_fire: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    pending_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
