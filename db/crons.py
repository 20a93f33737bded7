"""Cron rows: queries every user of them shares (the `/runs/crons` routes, the agent's scheduling tool, and
the run workers' scheduler). Each takes a `user_session`, so RLS scopes it to one user, except `claim_due`,
`advance`, `fired` and `next_due_at`, which go through the definer functions of migration 0010 for every user's crons."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Cron

SORTABLE = ("cron_id", "assistant_id", "thread_id", "created_at", "updated_at", "next_run_date", "end_time")


async def insert(session: AsyncSession, **values: Any) -> Cron:
    cron = Cron(**values)
    session.add(cron)
    await session.flush()
    await session.refresh(cron)
    return cron


async def get(session: AsyncSession, cron_id: uuid.UUID, *, lock: bool = False) -> Cron | None:
    stmt = select(Cron).where(Cron.cron_id == cron_id)
    return (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()


async def remove(session: AsyncSession, cron_id: uuid.UUID) -> bool:
    result = await session.execute(delete(Cron).where(Cron.cron_id == cron_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _filters(stmt: Select[Any], *, assistant_ids: Sequence[str] | None, thread_id: uuid.UUID | None,
             enabled: bool | None, metadata: dict[str, Any] | None) -> Select[Any]:
    if assistant_ids:
        stmt = stmt.where(Cron.assistant_id.in_(list(assistant_ids)))
    if thread_id is not None:
        stmt = stmt.where(Cron.thread_id == thread_id)
    if enabled is not None:
        stmt = stmt.where(Cron.enabled.is_(enabled))
    if metadata:
        stmt = stmt.where(Cron.metadata_.contains(metadata))
    return stmt


async def search(session: AsyncSession, *, assistant_ids: Sequence[str] | None = None,
                 thread_id: uuid.UUID | None = None, enabled: bool | None = None,
                 metadata: dict[str, Any] | None = None, limit: int = 10, offset: int = 0,
                 sort_by: str | None = None, sort_order: str | None = None) -> list[Cron]:
    column = getattr(Cron, sort_by or "created_at")
    order = column.asc() if sort_order == "asc" else column.desc()
    stmt = _filters(select(Cron), assistant_ids=assistant_ids, thread_id=thread_id, enabled=enabled,
                    metadata=metadata)
    stmt = stmt.order_by(order.nulls_last(), Cron.cron_id).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars())


async def count(session: AsyncSession, *, assistant_ids: Sequence[str] | None = None,
                thread_id: uuid.UUID | None = None, metadata: dict[str, Any] | None = None) -> int:
    stmt = _filters(select(func.count()).select_from(Cron), assistant_ids=assistant_ids, thread_id=thread_id,
                    enabled=None, metadata=metadata)
    return int((await session.execute(stmt)).scalar_one())


async def claim_due(session: AsyncSession, now: dt.datetime, limit: int, lease_seconds: int) -> list[Cron]:
    """Every user's crons due at `now`, and those whose claimant died while firing, marked pending (the time
    being fired is `pending_fire`); others skip them while this transaction holds them."""
    stmt = select(Cron).from_statement(text("SELECT * FROM dsa_claim_crons(:now, :n, :lease)"))
    result = await session.execute(stmt, {"now": now, "n": limit, "lease": lease_seconds})
    return list(result.scalars())


async def advance(session: AsyncSession, cron_id: uuid.UUID, next_run_date: dt.datetime) -> None:
    """Move a claimed cron to its next time (in the claiming transaction)."""
    await session.execute(text("SELECT dsa_advance_cron(:c, :t)"), {"c": cron_id, "t": next_run_date})


async def fired(session: AsyncSession, cron_id: uuid.UUID, fire_time: dt.datetime) -> None:
    """The run for `fire_time` exists (or was refused): the cron is no longer pending."""
    await session.execute(text("SELECT dsa_fired_cron(:c, :t)"), {"c": cron_id, "t": fire_time})


async def next_due_at(session: AsyncSession) -> dt.datetime | None:
    return (await session.execute(text("SELECT dsa_next_cron_at()"))).scalar_one()  # type: ignore[no-any-return]
