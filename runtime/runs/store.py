"""Thread and run rows: queries and their API shapes. Every function takes a `user_session`, so RLS scopes it.

Kept free of HTTP and of graph execution so the request handlers, the executor and the sweeper share one
definition of "what a thread/run looks like" and of how a thread's status follows from its runs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Run, Thread
from db.models.threads import ACTIVE_RUN_STATUSES
from runtime.runs.errors import NotFound

ACTIVE = ACTIVE_RUN_STATUSES


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def thread_json(row: Thread) -> dict[str, Any]:
    return {
        "thread_id": str(row.thread_id),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "state_updated_at": _iso(row.updated_at),
        "metadata": row.metadata_ or {},
        "status": row.status,
        "config": {},
        "values": row.values if row.values is not None else {},
        "interrupts": row.interrupts or {},
        "error": row.error,
    }


def run_json(row: Run) -> dict[str, Any]:
    return {
        "run_id": str(row.run_id),
        "thread_id": str(row.thread_id),
        "assistant_id": row.assistant_id,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "status": row.status,
        "metadata": row.metadata_ or {},
        "multitask_strategy": row.multitask_strategy,
        "kwargs": row.kwargs,
        "error": row.error,
        "langsmith_session_name": None,  # langgraph-api's tracing project; this server traces to none
    }


def select_fields(body: dict[str, Any], fields: Sequence[str] | None) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k in fields} if fields else body


# --- threads ---------------------------------------------------------------------------------------------


async def get_thread(session: AsyncSession, thread_id: uuid.UUID, *, lock: bool = False) -> Thread | None:
    stmt = select(Thread).where(Thread.thread_id == thread_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def require_thread(session: AsyncSession, thread_id: uuid.UUID, *, lock: bool = False) -> Thread:
    thread = await get_thread(session, thread_id, lock=lock)
    if thread is None:  # another user's thread looks exactly like a missing one
        raise NotFound(f"thread {thread_id} not found", field="thread_id")
    return thread


# Ids nobody's thread may have: a client that names one gets the answer another user's thread id gets.
RESERVED_THREAD_IDS = frozenset({uuid.UUID(int=0), uuid.UUID(int=(1 << 128) - 1)})


async def insert_thread(session: AsyncSession, user_id: uuid.UUID, thread_id: uuid.UUID | None,
                        metadata: dict[str, Any]) -> Thread | None:
    """Create a thread; None if the id is taken (by this user or, invisibly, by another) or reserved."""
    values: dict[Any, Any] = {Thread.user_id: user_id, Thread.metadata_: metadata}
    if thread_id in RESERVED_THREAD_IDS:
        return None
    if thread_id is not None:
        values[Thread.thread_id] = thread_id
    stmt = insert(Thread).values(values).on_conflict_do_nothing(index_elements=["thread_id"]).returning(Thread)
    return (await session.execute(stmt)).scalar_one_or_none()


def _thread_filters(stmt: Select[Any], metadata: dict[str, Any] | None, values: dict[str, Any] | None,
                    status: str | None, ids: Sequence[uuid.UUID] | None) -> Select[Any]:
    if metadata:
        stmt = stmt.where(Thread.metadata_.contains(metadata))
    if values:
        stmt = stmt.where(Thread.values.contains(values))
    if status:
        stmt = stmt.where(Thread.status == status)
    if ids:
        stmt = stmt.where(Thread.thread_id.in_(ids))
    return stmt


async def search_threads(session: AsyncSession, *, metadata: dict[str, Any] | None, values: dict[str, Any] | None,
                         status: str | None, ids: Sequence[uuid.UUID] | None, limit: int, offset: int,
                         sort_by: str | None, sort_order: str | None) -> list[Thread]:
    column = {"thread_id": Thread.thread_id, "status": Thread.status, "created_at": Thread.created_at,
              "updated_at": Thread.updated_at, "state_updated_at": Thread.updated_at}[sort_by or "updated_at"]
    order = column.asc() if sort_order == "asc" else column.desc()
    stmt = _thread_filters(select(Thread), metadata, values, status, ids).order_by(order).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars())


async def count_threads(session: AsyncSession, *, metadata: dict[str, Any] | None, values: dict[str, Any] | None,
                        status: str | None) -> int:
    stmt = _thread_filters(select(func.count()).select_from(Thread), metadata, values, status, None)
    return int((await session.execute(stmt)).scalar_one())


async def thread_ids_where(session: AsyncSession, metadata: dict[str, Any]) -> list[uuid.UUID]:
    stmt = select(Thread.thread_id).where(Thread.metadata_.contains(metadata))
    return list((await session.execute(stmt)).scalars())


async def merge_thread_metadata(session: AsyncSession, thread_id: uuid.UUID, metadata: dict[str, Any]) -> None:
    await session.execute(
        update(Thread).where(Thread.thread_id == thread_id)
        .values({Thread.metadata_: Thread.metadata_.op("||")(bindparam("meta", metadata, type_=JSONB)),
                 Thread.updated_at: func.now()})
    )


async def delete_thread(session: AsyncSession, thread_id: uuid.UUID) -> bool:
    result = await session.execute(delete(Thread).where(Thread.thread_id == thread_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_thread_state(session: AsyncSession, thread_id: uuid.UUID, *, status: str | None = None,
                           values: dict[str, Any] | None = None, interrupts: dict[str, Any] | None = None,
                           error: dict[str, Any] | None | bool = False) -> None:
    changes: dict[str, Any] = {"updated_at": func.now()}
    if status is not None:
        changes["status"] = status
    if values is not None:
        changes["values"] = values
    if interrupts is not None:
        changes["interrupts"] = interrupts
    if error is not False:
        changes["error"] = error
    await session.execute(update(Thread).where(Thread.thread_id == thread_id).values(**changes))


# --- runs ------------------------------------------------------------------------------------------------


async def active_runs(session: AsyncSession, thread_id: uuid.UUID, *, lock: bool = False) -> list[Run]:
    stmt = select(Run).where(Run.thread_id == thread_id, Run.status.in_(ACTIVE)).order_by(Run.created_at)
    if lock:
        stmt = stmt.with_for_update()
    return list((await session.execute(stmt)).scalars())


async def has_other_active_runs(session: AsyncSession, thread_id: uuid.UUID, run_id: uuid.UUID) -> bool:
    stmt = select(func.count()).select_from(Run).where(
        Run.thread_id == thread_id, Run.status.in_(ACTIVE), Run.run_id != run_id)
    return bool((await session.execute(stmt)).scalar_one())


async def get_run(session: AsyncSession, thread_id: uuid.UUID, run_id: uuid.UUID, *, lock: bool = False) -> Run | None:
    stmt = select(Run).where(Run.run_id == run_id, Run.thread_id == thread_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_run(session: AsyncSession, run_id: uuid.UUID) -> Run | None:
    """A run by its id alone (A2A names a task by run id only); the session's user's, or None."""
    return (await session.execute(select(Run).where(Run.run_id == run_id))).scalar_one_or_none()


async def require_run(session: AsyncSession, thread_id: uuid.UUID, run_id: uuid.UUID, *, lock: bool = False) -> Run:
    run = await get_run(session, thread_id, run_id, lock=lock)
    if run is None:
        raise NotFound(f"run {run_id} not found on thread {thread_id}", field="run_id")
    return run


async def list_runs(session: AsyncSession, thread_id: uuid.UUID, *, limit: int, offset: int,
                    status: str | None) -> list[Run]:
    stmt = select(Run).where(Run.thread_id == thread_id)
    if status:
        stmt = stmt.where(Run.status == status)
    stmt = stmt.order_by(Run.created_at.desc()).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars())


async def runs_in(session: AsyncSession, statuses: Sequence[str]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(thread id, run id) of every run of the session's user in one of `statuses`, oldest first."""
    rows = await session.execute(select(Run.thread_id, Run.run_id).where(Run.status.in_(list(statuses)))
                                 .order_by(Run.created_at))
    return [(r[0], r[1]) for r in rows]


async def insert_run(session: AsyncSession, **values: Any) -> Run:
    run = Run(**values)
    session.add(run)
    await session.flush()
    await session.refresh(run)
    return run


async def finish_run(session: AsyncSession, run_id: uuid.UUID, status: str, error: dict[str, Any] | None) -> None:
    await session.execute(
        update(Run).where(Run.run_id == run_id)
        .values(status=status, error=error, ended_at=func.now(), updated_at=func.now(), worker_id=None)
    )


async def delete_run(session: AsyncSession, run_id: uuid.UUID) -> None:
    await session.execute(delete(Run).where(Run.run_id == run_id))


def settled_thread_status(*, others_active: bool, run_status: str, has_next: bool) -> str:
    """A thread's status once a run settles: busy while more runs are queued, else from the outcome."""
    if others_active:
        return "busy"
    if run_status in ("error", "timeout"):
        return "error"
    return "interrupted" if has_next else "idle"


# --- the run path in plain SQL ------------------------------------------------------------------------------
# Every turn creates, claims, loads and settles one run; these statements run on the bare asyncpg connection of
# a user transaction (`Database.user_connection`, or `driver_connection` of a session), each written so a turn
# needs as few of them as possible. JSONB parameters are JSON text (`db.session.json_text`).

RUN_COLUMNS = ("run_id, thread_id, user_id, assistant_id, status, metadata, kwargs, multitask_strategy, "
               "cancel_requested, error, worker_id, heartbeat_at, run_after, started_at, ended_at, created_at, "
               "updated_at")


def run_from(record: asyncpg.Record) -> Run:
    """An (unattached) `Run` from a row of RUN_COLUMNS, for the API shapes above."""
    values = dict(record)
    values["metadata_"] = values.pop("metadata")
    return Run(**values)


async def lock_thread(conn: asyncpg.Connection, thread_id: uuid.UUID) -> str | None:
    """Lock the thread row (the first lock every run operation takes); its status, or None if the user has no
    such thread."""
    return await conn.fetchval("SELECT status FROM threads WHERE thread_id = $1 FOR UPDATE", thread_id)


async def lock_active_runs(conn: asyncpg.Connection, thread_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(run id, status) of the thread's active runs, oldest first, locked (after the thread row)."""
    rows = await conn.fetch("SELECT run_id, status FROM runs WHERE thread_id = $1 AND status = ANY($2::text[]) "
                            "ORDER BY created_at FOR UPDATE", thread_id, list(ACTIVE))
    return [(r[0], r[1]) for r in rows]


async def request_cancel(conn: asyncpg.Connection, run_id: uuid.UUID, action: str) -> None:
    await conn.execute("UPDATE runs SET cancel_requested = $2, updated_at = now() WHERE run_id = $1", run_id, action)


async def end_pending_run(conn: asyncpg.Connection, run_id: uuid.UUID, *, rollback: bool) -> None:
    """A run that never started: deleted (rollback) or finished as interrupted."""
    if rollback:
        await conn.execute("DELETE FROM runs WHERE run_id = $1", run_id)
    else:
        await conn.execute("UPDATE runs SET status = 'interrupted', ended_at = now(), updated_at = now() "
                           "WHERE run_id = $1", run_id)


async def insert_pending_run(conn: asyncpg.Connection, *, run_id: uuid.UUID, thread_id: uuid.UUID,
                             user_id: uuid.UUID, assistant_id: str, metadata: str, kwargs: str,
                             multitask_strategy: str, after_seconds: float, thread_metadata: str) -> Run:
    """The pending run, and its thread marked busy with `thread_metadata` merged in: one statement."""
    record = await conn.fetchrow(
        "WITH busy AS (UPDATE threads SET metadata = metadata || $8::jsonb, status = 'busy', updated_at = now() "
        "WHERE thread_id = $2) "
        "INSERT INTO runs (run_id, thread_id, user_id, assistant_id, status, metadata, kwargs, multitask_strategy, "
        "run_after) VALUES ($1, $2, $3, $4, 'pending', $5::jsonb, $6::jsonb, $7, now() + make_interval(secs => $9)) "
        f"RETURNING {RUN_COLUMNS}",
        run_id, thread_id, user_id, assistant_id, metadata, kwargs, multitask_strategy, thread_metadata,
        float(after_seconds))
    return run_from(record)


async def run_inputs(conn: asyncpg.Connection, thread_id: uuid.UUID,
                     run_id: uuid.UUID) -> tuple[dict[str, Any], str, dict[str, Any]] | None:
    """What the executor needs of a run: (kwargs, assistant id, metadata); None if it is gone."""
    row = await conn.fetchrow("SELECT kwargs, assistant_id, metadata FROM runs WHERE run_id = $1 AND thread_id = $2",
                              run_id, thread_id)
    return None if row is None else (row[0], row[1], row[2] or {})


async def settle_run(conn: asyncpg.Connection, thread_id: uuid.UUID, run_id: uuid.UUID, status: str,
                     error: str | None) -> bool:
    """Finish the run (`status`; "rollback" deletes it) under the thread's lock; True if the thread has other
    active runs (queued behind this one)."""
    if await lock_thread(conn, thread_id) is None:
        return False  # the thread was deleted meanwhile (its runs with it)
    done = ("DELETE FROM runs WHERE run_id = $2" if status == "rollback" else
            "UPDATE runs SET status = $4, error = $5::jsonb, ended_at = now(), updated_at = now(), worker_id = NULL "
            "WHERE run_id = $2")
    args: tuple[Any, ...] = (thread_id, run_id, list(ACTIVE)) + (() if status == "rollback" else (status, error))
    return bool(await conn.fetchval(
        f"WITH done AS ({done}) SELECT EXISTS (SELECT 1 FROM runs WHERE thread_id = $1 AND run_id <> $2 "
        "AND status = ANY($3::text[]))", *args))


async def write_thread_state(conn: asyncpg.Connection, thread_id: uuid.UUID, *, status: str, values: str | None,
                             interrupts: str | None, error: str | None) -> None:
    """The thread row after a run: status, and its values and interrupts when known (JSON text)."""
    await conn.execute(
        "UPDATE threads SET status = $2, values = COALESCE($3::jsonb, values), "
        "interrupts = COALESCE($4::jsonb, interrupts), error = $5::jsonb, updated_at = now() WHERE thread_id = $1",
        thread_id, status, values, interrupts, error)
