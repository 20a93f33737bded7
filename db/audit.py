"""Writing the audit trail: a row before the action, its outcome after (see the append-only trigger)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditLog


async def start(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    actor: str,
    operation: str,
    arguments: dict[str, Any],
    status: str = "started",
    envelope_id: str | None = None,
    thread_id: str | None = None,
    run_id: str | None = None,
    tool_call_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> int:
    """A row before the action; a refusal that never reaches DocuSign is written whole here (with its error)."""
    stmt = insert(AuditLog).values(
        user_id=user_id, actor=actor, operation=operation, arguments=arguments, status=status,
        envelope_id=envelope_id, thread_id=thread_id, run_id=run_id, tool_call_id=tool_call_id,
        error_code=error_code, error_message=error_message,
    ).returning(AuditLog.id)
    return (await session.execute(stmt)).scalar_one()


async def finish(
    session: AsyncSession,
    audit_id: int,
    *,
    status: str,
    started: float,
    now: float,
    outcome: dict[str, Any] | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    trace_token: str | None = None,
    envelope_id: str | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status, "outcome": outcome, "error_code": error_code, "error_message": error_message,
        "docusign_trace_token": trace_token, "finished_at": dt.datetime.now(dt.UTC),
        "duration_ms": int((now - started) * 1000),
    }
    if envelope_id is not None:
        values["envelope_id"] = envelope_id
    await session.execute(update(AuditLog).where(AuditLog.id == audit_id).values(**values))


async def settle_awaiting(session: AsyncSession, *, tool_call_id: str, status: str,
                          outcome: dict[str, Any] | None = None, error_code: str | None = None,
                          error_message: str | None = None) -> None:
    """The outcome of a call's `awaiting_approval` row, once a person has decided on it."""
    await session.execute(
        update(AuditLog).where(AuditLog.tool_call_id == tool_call_id, AuditLog.status == "awaiting_approval")
        .values(status=status, outcome=outcome, error_code=error_code, error_message=error_message,
                finished_at=dt.datetime.now(dt.UTC)))


async def for_call(session: AsyncSession, tool_call_id: str) -> list[AuditLog]:
    """Every row about one tool call, oldest first (a held call has its hold, then the call itself)."""
    stmt = select(AuditLog).where(AuditLog.tool_call_id == tool_call_id).order_by(AuditLog.id)
    return list((await session.execute(stmt)).scalars())


async def unfinished(session: AsyncSession, thread_id: str, *, except_run: str | None = None) -> list[AuditLog]:
    """Calls of `thread_id` still `started` whose run is not this one: what a dead process left unfinished
    (one run runs on a thread at a time, so no other run's call can be in progress)."""
    stmt = select(AuditLog).where(AuditLog.thread_id == thread_id, AuditLog.status == "started")
    if except_run is not None:
        stmt = stmt.where(AuditLog.run_id.is_distinct_from(except_run))
    return list((await session.execute(stmt.order_by(AuditLog.id))).scalars())


async def interrupted(session: AsyncSession, row: AuditLog, *, message: str, outcome: dict[str, Any] | None = None,
                      envelope_id: str | None = None) -> None:
    """The one update of an unfinished row: `interrupted`, with what recovery found out."""
    values: dict[str, Any] = {"status": "interrupted", "error_code": "interrupted", "error_message": message,
                              "outcome": outcome, "finished_at": dt.datetime.now(dt.UTC)}
    if envelope_id is not None:
        values["envelope_id"] = envelope_id
    await session.execute(update(AuditLog).where(AuditLog.id == row.id, AuditLog.status == "started").values(**values))
